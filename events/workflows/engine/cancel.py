"""Cancelling a run: its hooks may refuse, else its completed steps are undone."""

from django.db import transaction

from ...models import WorkflowRun
from ..registry import get
from .outcomes import RunEnded
from .progress import begin_compensation, in_flow, lock_run


@transaction.atomic
def workflow_cancel(*, run: WorkflowRun, reason: str = WorkflowRun.Reason.CANCELLED) -> WorkflowRun:
    """Stop a run; what its completed steps did is undone next, in reverse order.

    A run that already ended, or is compensating, raises ``RunEnded``. The workflow's
    ``before_cancel`` hook may refuse first (``CancelRefused``): then nothing is undone.
    Its ``on_cancel`` hook then updates the subject in this transaction, and the run
    compensates after commit (its compensation task calls the outside world, a refund,
    outside any transaction) and ends ``cancelled``.
    """
    run = lock_run(run.pk)
    if run.is_terminal or run.status == WorkflowRun.Status.COMPENSATING:
        raise RunEnded(run.status)
    definition = get(run.workflow)
    if definition.before_cancel:
        definition.before_cancel(run)
    with in_flow(run):
        run.failure_reason = reason
        begin_compensation(run, ends_as=WorkflowRun.Status.CANCELLED)
        if definition.on_cancel:
            definition.on_cancel(run)
    return run
