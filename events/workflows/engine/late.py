"""Outside work that finished after its run stopped: recorded, then undone on its own."""

import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from ... import dispatch
from ...models import StepRun, WorkflowRun
from ..definition import StepSpec, Wait
from ..registry import get
from .outcomes import StepOutcome, StepResult
from .progress import (
    compensation_failed_try,
    in_flow,
    lock_run,
    outcome_unknown,
    owned,
    step_context,
)


def finished_late(run_id: uuid.UUID, spec: StepSpec, step_run: StepRun, result: Any) -> StepOutcome:
    """Record outside work that finished after its run stopped, and have it undone.

    The run's compensation passed this step by while it was running, but its effect (a
    captured charge, a booked parcel) is out there now. The step is recorded as done,
    which is the truth, and its compensation is sent as a task of its own: it retries
    a few times, and the watchdog sends it again while the step is still in effect.
    """
    with transaction.atomic():
        run = lock_run(run_id)
        note = f"Finished after its run became {run.status}."
        if spec.compensate is not None:
            note += " Its compensation undoes it."
        now = timezone.now()
        updated = owned(step_run).update(
            status=StepRun.Status.SUCCEEDED,
            result=result.result if isinstance(result, Wait) else result,
            finished_at=now,
            compensation_sent_at=now if spec.compensate is not None else None,
            error=note,
            traceback="",
        )
        if not updated:
            return StepOutcome(status=StepResult.SUPERSEDED)
        if spec.compensate is not None:
            dispatch.step_compensation_on_commit(run.pk, step_run.name)
    return StepOutcome(status=StepResult.LATE)


def step_compensate(*, run_id: uuid.UUID | str, step_name: str) -> float | None:
    """Undo one completed step of a stopped run, if it is still in effect.

    A run that stopped (cancelled, failed) undoes its completed steps; a step that
    completed only afterwards is undone here. A run retried meanwhile keeps the step:
    its work counts again. The compensation calls the outside world outside any
    transaction; the step is recorded undone afterwards. On an error, returns the delay
    before the next try, or None once the run ended ``compensation_failed``.
    """
    run = WorkflowRun.objects.get(pk=run_id)
    step_run = run.steps.get(name=step_name)
    spec = get(run.workflow).step(step_name)
    if not _undoable(run, step_run, spec):
        return None
    try:
        with in_flow(run):
            spec.compensate(step_context(run, step_run))  # type: ignore[misc]
    except Exception as exc:
        with transaction.atomic():
            run = lock_run(run_id)
            if not _undoable(run, run.steps.get(name=step_name), spec):
                return None
            return compensation_failed_try(run, step_name, exc)
    with transaction.atomic():
        run = lock_run(run_id)
        now = timezone.now()
        StepRun.objects.filter(pk=step_run.pk, status=StepRun.Status.SUCCEEDED).update(
            status=StepRun.Status.COMPENSATED, compensated_at=now
        )
        # A failed outside call keeps saying so; its compensation time says it was undone.
        StepRun.objects.filter(pk=step_run.pk, status=StepRun.Status.FAILED).update(
            compensated_at=now
        )
    return None


def _undoable(run: WorkflowRun, step_run: StepRun, spec: StepSpec) -> bool:
    """A completed step, or a failed outside call, of a stopped run, not undone yet."""
    stopped = run.status in (WorkflowRun.Status.CANCELLED, WorkflowRun.Status.FAILED)
    done = step_run.status == StepRun.Status.SUCCEEDED or (
        step_run.status == StepRun.Status.FAILED and outcome_unknown(step_run, spec)
    )
    return stopped and done and spec.compensate is not None
