"""Undoing a run: its completed steps' compensations, in reverse order.

Each compensation calls the outside world (a refund) outside any transaction, and its
step is recorded undone afterwards in a transaction of its own; the run's lock is never
held across the call. The run's ``compensating`` status is the claim that keeps every
other move away meanwhile. A compensation that fails is tried again with backoff; one
that fails for good ends the run ``compensation_failed``, for an operator to retry.
"""

import logging
import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from ... import dispatch, instruments
from ...models import StepRun, WorkflowRun
from ..definition import WorkflowNotRetryable
from ..registry import get
from .progress import (
    compensation_failed_try,
    in_effect,
    in_flow,
    lock_run,
    needs_undoing,
    step_context,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CompensationOutcome:
    """Where the run stands after one pass; ``retry_in`` seconds when another try is due."""

    status: str
    retry_in: float | None = None


def workflow_compensate(*, run_id: uuid.UUID | str) -> CompensationOutcome:
    """Undo the run's steps still in effect, newest first, then end the run.

    A pass that meets an error stops there: the steps undone so far stay undone, and the
    next pass (after ``retry_in``) goes on from the first step still in effect.
    """
    while True:
        names = _steps_to_undo(run_id)
        if names is None:
            return CompensationOutcome(status=WorkflowRun.objects.get(pk=run_id).status)
        for name in names:
            try:
                _undo(run_id, name)
            except Exception as exc:
                return _failed(run_id, name, exc)
        if not names and (finished := _finish(run_id)) is not None:
            return finished
        # Otherwise a step finished late meanwhile (its outside work came back after the
        # run stopped it): the next pass undoes it too.


@transaction.atomic
def _steps_to_undo(run_id: uuid.UUID | str) -> list[str] | None:
    """Skip the steps that never ran; list those to undo, newest first (None: not ours)."""
    run = lock_run(run_id)
    if run.status != WorkflowRun.Status.COMPENSATING:
        return None
    run.compensation_tried_at = timezone.now()
    run.save(update_fields=["compensation_tried_at"])
    definition = get(run.workflow)
    names = []
    for step_run in reversed(list(run.steps.all())):
        if step_run.status in (StepRun.Status.PENDING, StepRun.Status.QUEUED):
            StepRun.objects.filter(pk=step_run.pk).update(status=StepRun.Status.SKIPPED)
        elif needs_undoing(step_run, definition.step(step_run.name)):
            names.append(step_run.name)
        elif step_run.status in (StepRun.Status.WAITING, StepRun.Status.RETRYING):
            # Nothing to undo: it stops waiting, or is not tried again.
            StepRun.objects.filter(pk=step_run.pk).update(
                status=StepRun.Status.SKIPPED, waiting_for=""
            )
    return names


def _undo(run_id: uuid.UUID | str, name: str) -> None:
    """Call one step's compensation (outside any transaction), then record it undone."""
    run = WorkflowRun.objects.get(pk=run_id)
    step_run = run.steps.get(name=name)
    spec = get(run.workflow).step(name)
    if run.status != WorkflowRun.Status.COMPENSATING or not needs_undoing(step_run, spec):
        return
    with in_flow(run):
        spec.compensate(step_context(run, step_run))  # type: ignore[misc]
    with transaction.atomic():
        lock_run(run_id)
        # A step that failed keeps saying so (one due for a retry is not tried again);
        # its compensation time says it was undone.
        status = StepRun.Status.COMPENSATED if in_effect(step_run) else step_run.status
        if status == StepRun.Status.RETRYING:
            status = StepRun.Status.SKIPPED
        StepRun.objects.filter(pk=step_run.pk).update(
            status=status, compensated_at=timezone.now(), waiting_for=""
        )


@transaction.atomic
def _failed(run_id: uuid.UUID | str, name: str, exc: Exception) -> CompensationOutcome:
    run = lock_run(run_id)
    if run.status != WorkflowRun.Status.COMPENSATING:
        return CompensationOutcome(status=run.status)
    retry_in = compensation_failed_try(run, name, exc)
    if retry_in is None:
        logger.error("Compensation of run %s failed for good: %s", run.pk, run.compensation_error)
    else:
        logger.warning(
            "Compensation of run %s failed, retry in %.1fs: %s",
            run.pk,
            retry_in,
            run.compensation_error,
        )
    return CompensationOutcome(status=run.status, retry_in=retry_in)


@transaction.atomic
def _finish(run_id: uuid.UUID | str) -> CompensationOutcome | None:
    """Every step undone: the run ends as its compensation was begun for.

    None if a step came into effect since the last pass (checked under the run's lock,
    which a step finishing late takes too): another pass is due.
    """
    run = lock_run(run_id)
    if run.status != WorkflowRun.Status.COMPENSATING:
        return CompensationOutcome(status=run.status)
    definition = get(run.workflow)
    if any(needs_undoing(s, definition.step(s.name)) for s in run.steps.all()):
        return None
    with in_flow(run):
        run.status = run.compensation_ends_as or WorkflowRun.Status.FAILED
        run.finished_at = timezone.now()
        run.compensation_error = ""
        run.save(update_fields=["status", "finished_at", "compensation_error"])
        if run.status == WorkflowRun.Status.FAILED and definition.on_failure:
            definition.on_failure(run)
    instruments.workflow_compensated(run.workflow)
    return CompensationOutcome(status=run.status)


@transaction.atomic
def workflow_retry_compensation(*, run: WorkflowRun) -> WorkflowRun:
    """An operator's retry of a run whose compensation failed for good: it compensates
    again from the first step still in effect (the steps undone stay undone)."""
    run = lock_run(run.pk)
    if run.status != WorkflowRun.Status.COMPENSATION_FAILED:
        raise WorkflowNotRetryable(
            f"Only a run whose compensation failed can retry it; this one is {run.status}."
        )
    run.status = WorkflowRun.Status.COMPENSATING
    run.compensation_attempts = 0
    run.compensation_tried_at = timezone.now()
    run.finished_at = None
    run.save(
        update_fields=["status", "compensation_attempts", "compensation_tried_at", "finished_at"]
    )
    dispatch.workflow_compensation_on_commit(run.pk)
    return run
