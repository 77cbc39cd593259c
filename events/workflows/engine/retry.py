"""Running a failed run again from its failed step."""

from django.db import transaction

from ...models import StepRun, WorkflowRun
from ..definition import WorkflowNotRetryable
from ..registry import get
from .progress import advance, lock_run


@transaction.atomic
def workflow_retry(*, run: WorkflowRun) -> WorkflowRun:
    """Run a failed run again from its failed step; steps still in effect are not rerun."""
    run = lock_run(run.pk)
    if run.status != WorkflowRun.Status.FAILED:
        raise WorkflowNotRetryable(f"Only a failed run can be retried; this one is {run.status}.")
    run.steps.exclude(status=StepRun.Status.SUCCEEDED).update(
        status=StepRun.Status.PENDING,
        attempts=0,
        error="",
        traceback="",
        result=None,
        started_at=None,
        finished_at=None,
        compensated_at=None,
        waiting_for="",
        wait_deadline=None,
        waited=False,
        timeout_reason="",
        retry_at=None,
        compensation_sent_at=None,
    )
    run.status = WorkflowRun.Status.RUNNING
    run.error = ""
    run.failure_reason = ""
    run.finished_at = None
    run.save(update_fields=["status", "error", "failure_reason", "finished_at"])
    definition = get(run.workflow)
    if definition.on_retry:
        definition.on_retry(run)
    advance(run)
    return run
