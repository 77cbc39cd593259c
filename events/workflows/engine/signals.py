"""Resuming a step that waits for a signal from outside (a payment confirmed, a parcel in)."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from ...models import StepRun, WorkflowRun
from .failure import fail_for_good
from .progress import advance, lock_run


@transaction.atomic
def workflow_signal(
    *,
    run: WorkflowRun,
    signal: str,
    result: dict[str, Any] | None = None,
    failure_reason: str = "",
    error: str = "",
) -> bool:
    """Deliver ``signal`` to the run's step waiting for it; return whether one was waiting.

    Without ``failure_reason`` the step succeeds (its result updated with ``result``) and
    the run moves on; with it the step fails and the run compensates. A signal nobody
    waits for (a duplicate callback, a run already over) changes nothing.
    """
    run = lock_run(run.pk)
    step_run = run.steps.filter(status=StepRun.Status.WAITING, waiting_for=signal).first()
    if run.status != WorkflowRun.Status.RUNNING or step_run is None:
        return False
    if failure_reason:
        fail_for_good(
            run,
            step_run,
            error=error or f"{signal}: {failure_reason}",
            traceback_text="",
            reason=failure_reason,
        )
        return True
    StepRun.objects.filter(pk=step_run.pk).update(
        status=StepRun.Status.SUCCEEDED,
        result={**(step_run.result or {}), **(result or {})},
        finished_at=timezone.now(),
        waiting_for="",
        wait_deadline=None,
    )
    advance(run)
    return True
