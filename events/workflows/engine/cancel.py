"""Cancelling a run: its hooks may refuse, else its completed steps are undone."""

from django.db import transaction
from django.utils import timezone

from ...models import WorkflowRun
from ..registry import get
from .compensation import compensate_steps
from .outcomes import RunEnded
from .progress import in_flow, lock_run


@transaction.atomic
def workflow_cancel(*, run: WorkflowRun, reason: str = WorkflowRun.Reason.CANCELLED) -> WorkflowRun:
    """Stop a run and undo what its completed steps did, in reverse order.

    A run that already ended raises ``RunEnded``. The workflow's ``before_cancel`` hook
    may refuse first (``CancelRefused``): then nothing is undone, which matters when
    undoing calls the outside world (a refund). Its ``on_cancel`` hook then updates the
    subject; a refusal there rolls back too.
    """
    run = lock_run(run.pk)
    if run.is_terminal:
        raise RunEnded(run.status)
    definition = get(run.workflow)
    if definition.before_cancel:
        definition.before_cancel(run)
    with in_flow(run):
        compensate_steps(run)
        run.status = WorkflowRun.Status.CANCELLED
        run.failure_reason = reason
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "failure_reason", "finished_at"])
        if definition.on_cancel:
            definition.on_cancel(run)
    return run
