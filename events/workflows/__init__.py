"""A declarative, durable workflow engine on Celery.

A workflow is a list of stages; a stage is one step or several in parallel. Each step is
a Celery task with a stable name, a retry policy, time limits and, optionally, a
compensation. The database (WorkflowRun, StepRun) is the source of truth for every run.
"""

from .definition import (
    CancelRefused,
    RetryPolicy,
    StepCancelled,
    StepContext,
    StepFailed,
    StepSpec,
    Wait,
    Workflow,
    parallel,
    register,
    step,
)
from .engine import (
    WorkflowNotRetryable,
    workflow_cancel,
    workflow_retry,
    workflow_signal,
    workflow_start,
)

__all__ = [
    "CancelRefused",
    "RetryPolicy",
    "StepCancelled",
    "StepContext",
    "StepFailed",
    "StepSpec",
    "Wait",
    "Workflow",
    "WorkflowNotRetryable",
    "parallel",
    "register",
    "step",
    "workflow_cancel",
    "workflow_retry",
    "workflow_signal",
    "workflow_start",
]
