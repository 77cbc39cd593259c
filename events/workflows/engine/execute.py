"""Running one try of a step: the body of every step task."""

import logging
import uuid
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from ...models import StepRun, WorkflowRun
from ..definition import StepCancelled, Wait
from ..registry import get
from .failure import fail_try
from .late import finished_late
from .outcomes import StepOutcome, StepResult, Superseded
from .progress import (
    RUNNABLE,
    advance,
    begin_compensation,
    in_flow,
    lock_run,
    owned,
    step_context,
)

logger = logging.getLogger(__name__)


def step_execute(*, run_id: uuid.UUID | str, step_name: str, task_id: str = "") -> StepOutcome:
    """Run one step of a run, and record what came of it."""
    with transaction.atomic():
        run = lock_run(run_id)
        step_run = StepRun.objects.get(run=run, name=step_name)
        if not _start_try(run, step_run, task_id):
            return StepOutcome(status=StepResult.NOT_RUNNABLE)
    spec = get(run.workflow).step(step_name)
    ctx = step_context(run, step_run)
    try:
        with in_flow(run):
            if spec.atomic:
                with transaction.atomic():
                    # The run is locked before whatever the step locks, as on every path
                    # that changes a run and its subject (cancel, signal, compensation).
                    locked = lock_run(run.id)
                    _succeed(locked, step_run, spec.fn(ctx))
            else:
                result = spec.fn(ctx)
                try:
                    with transaction.atomic():
                        _succeed(lock_run(run.id), step_run, result)
                except StepCancelled:
                    return finished_late(run.id, spec, step_run, result)
    except Superseded:
        return StepOutcome(status=StepResult.SUPERSEDED)
    except StepCancelled as exc:
        return _stop(run.id, step_run, exc)
    except Exception as exc:
        return fail_try(run.id, spec, step_run, exc)
    return StepOutcome(status=StepResult.SUCCEEDED)


def _start_try(run: WorkflowRun, step_run: StepRun, task_id: str) -> bool:
    """Mark the step running under this task, if this message may run it.

    A step already running may run again only on redelivery of the same message (its
    worker died); any other copy of the message is a duplicate.
    """
    redelivered = step_run.status == StepRun.Status.RUNNING and step_run.task_id == task_id
    runnable = step_run.status in RUNNABLE or redelivered
    if run.status != WorkflowRun.Status.RUNNING or not runnable:
        return False
    step_run.status = StepRun.Status.RUNNING
    step_run.attempts += 1
    step_run.started_at = timezone.now()
    step_run.finished_at = None
    step_run.retry_at = None
    step_run.task_id = task_id
    step_run.save(
        update_fields=["status", "attempts", "started_at", "finished_at", "retry_at", "task_id"]
    )
    return True


def _succeed(run: WorkflowRun, step_run: StepRun, result: Any) -> None:
    """Record the try's result and move the run on. Caller holds the run's lock."""
    if run.status != WorkflowRun.Status.RUNNING:
        raise StepCancelled(f"Run {run.pk} is {run.status}; {step_run.name} is rolled back.")
    if isinstance(result, Wait):
        updated = owned(step_run).update(
            status=StepRun.Status.WAITING,
            result=result.result,
            waiting_for=result.signal,
            wait_deadline=timezone.now() + timedelta(seconds=result.timeout_seconds),
            timeout_reason=result.timeout_reason,
            waited=True,
            error="",
            traceback="",
        )
    else:
        updated = owned(step_run).update(
            status=StepRun.Status.SUCCEEDED,
            result=result,
            finished_at=timezone.now(),
            error="",
            traceback="",
        )
    if not updated:
        raise Superseded(f"{step_run.name} of run {run.pk} was taken over by another try.")
    if not isinstance(result, Wait):
        advance(run)


def _stop(run_id: uuid.UUID, step_run: StepRun, exc: StepCancelled) -> StepOutcome:
    """Skip a step that found its run or its subject stopped.

    A run still running stops here too: its subject moved on without it (an order
    cancelled or expired elsewhere), so it is cancelled and its completed steps undone,
    rather than left running with nothing left to queue.
    """
    with transaction.atomic():
        run = lock_run(run_id)
        now = timezone.now()
        if not owned(step_run).update(
            status=StepRun.Status.SKIPPED, error=str(exc), finished_at=now
        ):
            return StepOutcome(status=StepResult.SUPERSEDED)
        if run.status == WorkflowRun.Status.RUNNING:
            logger.warning("Run %s stops: %s says %s", run.pk, step_run.name, exc)
            run.error = f"{step_run.name}: {exc}"
            run.failure_reason = WorkflowRun.Reason.CANCELLED
            begin_compensation(run, ends_as=WorkflowRun.Status.CANCELLED)
    return StepOutcome(status=StepResult.SKIPPED)
