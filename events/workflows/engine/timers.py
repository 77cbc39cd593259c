"""Deadlines of steps waiting for a signal: past one, the step fails with its reason."""

from django.db import transaction
from django.utils import timezone

from ...models import StepRun, WorkflowRun
from .failure import fail_for_good
from .progress import lock_run


def workflow_fire_timers() -> int:
    """Fail the waiting steps whose deadline passed; return how many."""
    expired = StepRun.objects.filter(
        status=StepRun.Status.WAITING, wait_deadline__lt=timezone.now()
    ).values_list("pk", flat=True)
    fired = 0
    for step_pk in list(expired):
        with transaction.atomic():
            step_run = StepRun.objects.select_related("run").get(pk=step_pk)
            run = lock_run(step_run.run_id)
            step_run.refresh_from_db()
            if step_run.status != StepRun.Status.WAITING:
                continue
            waited = step_run.wait_deadline - step_run.started_at if step_run.started_at else None
            fail_for_good(
                run,
                step_run,
                error=f"No {step_run.waiting_for!r} signal in time (waited {waited}).",
                traceback_text="",
                reason=step_run.timeout_reason or WorkflowRun.Reason.TIMEOUT,
            )
            fired += 1
    return fired
