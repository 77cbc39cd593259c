"""A step that failed: retried per its policy, or failed for good and its run undone."""

import logging
import traceback
import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from ... import dispatch
from ...models import StepRun, WorkflowRun
from ..definition import StepFailed, StepSpec
from ..registry import get
from .outcomes import StepOutcome, StepResult
from .progress import begin_compensation, lock_run, owned

logger = logging.getLogger(__name__)


def fail_try(run_id: uuid.UUID, spec: StepSpec, step_run: StepRun, exc: Exception) -> StepOutcome:
    """Record a try that raised: a retry is due, or the step failed for good."""
    error = f"{type(exc).__name__}: {exc}"
    tb = "".join(traceback.format_exception(exc))
    reason = exc.reason if isinstance(exc, StepFailed) else f"{spec.name}_failed"
    with transaction.atomic():
        run = lock_run(run_id)
        if not owned(step_run).exists():
            return StepOutcome(status=StepResult.SUPERSEDED)
        # A run stopped meanwhile retries nothing: the step fails where it stands.
        if run.status == WorkflowRun.Status.RUNNING and spec.retry.should_retry(
            exc, step_run.attempts
        ):
            delay = spec.retry.delay(step_run.attempts)
            retry_at = timezone.now() + timedelta(seconds=delay)
            owned(step_run).update(
                status=StepRun.Status.RETRYING, error=error, traceback=tb, retry_at=retry_at
            )
            logger.warning(
                "Step %s of run %s failed, retry in %.1fs: %s", spec.name, run_id, delay, error
            )
            return StepOutcome(status=StepResult.RETRYING, retry_in=delay)
        logger.warning("Step %s of run %s failed for good: %s", spec.name, run_id, error)
        fail_for_good(run, step_run, error=error, traceback_text=tb, reason=reason)
        if run.status in (WorkflowRun.Status.CANCELLED, WorkflowRun.Status.FAILED):
            _undo_unknown_outcome(run, spec, step_run)
    return StepOutcome(status=StepResult.FAILED)


def _undo_unknown_outcome(run: WorkflowRun, spec: StepSpec, step_run: StepRun) -> None:
    """An outside call that failed after its run stopped may still have taken effect (an
    answer lost after a charge was made): its compensation is sent as a task of its own,
    as for a step that finished late. A run still compensating undoes it in its pass."""
    if spec.atomic or spec.compensate is None:
        return
    StepRun.objects.filter(pk=step_run.pk).update(compensation_sent_at=timezone.now())
    dispatch.step_compensation_on_commit(run.pk, step_run.name)


def fail_for_good(
    run: WorkflowRun, step_run: StepRun, *, error: str, traceback_text: str, reason: str
) -> None:
    """Mark the step failed and start compensating the run (past its point of no return,
    fail it as it stands instead). Caller holds the run's lock."""
    StepRun.objects.filter(pk=step_run.pk).update(
        status=StepRun.Status.FAILED,
        error=error,
        traceback=traceback_text,
        finished_at=timezone.now(),
        waiting_for="",
    )
    if run.status != WorkflowRun.Status.RUNNING:
        return
    run.error = f"{step_run.name}: {error}"
    run.failure_reason = reason
    if _past_point_of_no_return(run):
        logger.warning("Run %s failed past its point of no return: %s", run.pk, run.error)
        run.status = WorkflowRun.Status.FAILED
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "failure_reason", "finished_at"])
        return
    begin_compensation(run, ends_as=WorkflowRun.Status.FAILED)


def _past_point_of_no_return(run: WorkflowRun) -> bool:
    point = get(run.workflow).point_of_no_return
    return point is not None and (
        run.steps.filter(name=point.name, status=StepRun.Status.SUCCEEDED).exists()
    )
