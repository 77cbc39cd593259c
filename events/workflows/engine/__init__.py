"""Running workflows: the database records every move, Celery carries the steps.

One module per move: ``start``, ``execute`` (one try of a step), ``failure`` (retry or
fail for good), ``late`` (work that finished after its run stopped), ``compensation``,
``signals``, ``timers``, ``cancel``, ``retry`` and the ``watchdog``; ``progress`` holds
the bookkeeping they share (locks, queueing, advancing a run).
"""

from .cancel import workflow_cancel
from .compensation import CompensationOutcome, workflow_compensate, workflow_retry_compensation
from .execute import step_execute
from .late import step_compensate
from .outcomes import RunEnded, StepOutcome, StepResult
from .retry import workflow_retry
from .signals import workflow_signal
from .start import workflow_start
from .timers import workflow_fire_timers
from .watchdog import workflow_resume_stalled

__all__ = [
    "CompensationOutcome",
    "RunEnded",
    "StepOutcome",
    "StepResult",
    "step_compensate",
    "step_execute",
    "workflow_cancel",
    "workflow_compensate",
    "workflow_fire_timers",
    "workflow_resume_stalled",
    "workflow_retry",
    "workflow_retry_compensation",
    "workflow_signal",
    "workflow_start",
]
