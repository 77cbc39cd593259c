"""A declarative, durable workflow engine on Celery.

A workflow is a list of stages; a stage is one step or several in parallel. Each step is
a Celery task with a stable name, a retry policy, time limits and, optionally, a
compensation. The database (WorkflowRun, StepRun) is the source of truth for every run.

``definition`` holds what a workflow is made of, ``registry`` finds workflows by name,
``steps`` makes a function a step task, and the ``engine`` package runs them.
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
    WorkflowNotRetryable,
    parallel,
)
from .engine import (
    RunEnded,
    workflow_cancel,
    workflow_retry,
    workflow_retry_compensation,
    workflow_signal,
    workflow_start,
)
from .registry import register, unregister
from .steps import step

__all__ = [
    "CancelRefused",
    "RetryPolicy",
    "RunEnded",
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
    "unregister",
    "workflow_cancel",
    "workflow_retry",
    "workflow_retry_compensation",
    "workflow_signal",
    "workflow_start",
]
