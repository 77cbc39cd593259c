"""Undoing a run: its completed steps' compensations, in reverse order."""

import uuid

from django.db import transaction
from django.utils import timezone

from ... import instruments
from ...models import StepRun, WorkflowRun
from ..registry import get
from .progress import in_flow, lock_run, step_context


def compensate_steps(run: WorkflowRun) -> None:
    """Undo the succeeded steps in reverse order; skip those that never ran.

    A step that did its part and then waited (for a signal that failed or never came) is
    undone like a completed one. Caller holds the run's lock.
    """
    definition = get(run.workflow)
    for step_run in reversed(list(run.steps.all())):
        if step_run.status in (StepRun.Status.PENDING, StepRun.Status.QUEUED):
            step_run.status = StepRun.Status.SKIPPED
            step_run.save(update_fields=["status"])
            continue
        in_effect = step_run.status in (StepRun.Status.SUCCEEDED, StepRun.Status.WAITING) or (
            step_run.status == StepRun.Status.FAILED and step_run.waited
        )
        if not in_effect:
            continue
        spec = definition.step(step_run.name)
        if spec.compensate is not None:
            spec.compensate(step_context(run, step_run))
            step_run.status = StepRun.Status.COMPENSATED
            step_run.compensated_at = timezone.now()
            step_run.waiting_for = ""
            step_run.save(update_fields=["status", "compensated_at", "waiting_for"])
        elif step_run.status == StepRun.Status.WAITING:
            step_run.status = StepRun.Status.SKIPPED
            step_run.waiting_for = ""
            step_run.save(update_fields=["status", "waiting_for"])
    instruments.workflow_compensated(run.workflow)


def workflow_compensate(*, run_id: uuid.UUID | str) -> WorkflowRun:
    """Compensate a failed run and mark it failed, in one transaction."""
    with transaction.atomic():
        run = lock_run(run_id)
        if run.status != WorkflowRun.Status.COMPENSATING:
            return run
        with in_flow(run):
            compensate_steps(run)
            run.status = WorkflowRun.Status.FAILED
            run.finished_at = timezone.now()
            run.save(update_fields=["status", "finished_at"])
            definition = get(run.workflow)
            if definition.on_failure:
                definition.on_failure(run)
    return run
