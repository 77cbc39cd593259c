"""Running workflows: the database records every move, Celery carries the steps.

No chords: when a step commits its success it locks its run and queues whatever steps
are now ready, so a parallel group joins without result-backend polling, and a run
picks up where its rows say it is.
"""

import logging
import traceback
import uuid
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from ..conf import events_settings
from ..context import caused_by
from ..models import StepRun, WorkflowRun
from .definition import (
    CancelRefused,
    StepCancelled,
    StepContext,
    StepFailed,
    StepSpec,
    Wait,
    get,
)

logger = logging.getLogger(__name__)

RUNNABLE = (StepRun.Status.QUEUED, StepRun.Status.RETRYING)


class WorkflowNotRetryable(Exception):
    """Only a failed run can be retried (and its ``on_retry`` hook may refuse too)."""


class _Superseded(Exception):
    """Another copy of the step's message took the step over: this copy records nothing."""


__all__ = ["CancelRefused", "WorkflowNotRetryable"]


@dataclass(frozen=True)
class StepOutcome:
    status: str
    retry_in: float | None = None


def workflow_start(
    *,
    workflow: str,
    subject_id: Any,
    input: dict[str, Any] | None = None,
    correlation_id: uuid.UUID | None = None,
) -> WorkflowRun:
    """Create the run and its steps, and queue the first stage after commit.

    Idempotent: one run per (workflow, subject); a second start returns the first run.
    """
    definition = get(workflow)
    run, created = WorkflowRun.objects.get_or_create(
        workflow=definition.name,
        subject_type=definition.subject_type,
        subject_id=str(subject_id),
        defaults={"input": input or {}, "correlation_id": correlation_id},
    )
    if created:
        StepRun.objects.bulk_create(
            StepRun(run=run, name=spec.name, task_name=spec.task_name, stage=index)
            for index, stage in enumerate(definition.stages)
            for spec in stage.steps
        )
        _advance(run)
    return run


def _in_flow(run: WorkflowRun) -> AbstractContextManager[None]:
    """Events emitted by the run's steps and compensations share its correlation id."""
    if run.correlation_id is None:
        return nullcontext()
    return caused_by(correlation_id=run.correlation_id, causation_id=None)


def _lock(run_id: uuid.UUID | str) -> WorkflowRun:
    return WorkflowRun.objects.select_for_update().get(pk=run_id)


def _send(spec: StepSpec, run_id: uuid.UUID, step_name: str) -> None:
    spec.task.apply_async(kwargs={"run_id": str(run_id), "step": step_name})


def _queue(run: WorkflowRun, step_run: StepRun) -> None:
    """Mark the step queued and send its task after commit.

    If the send fails (broker down) the step stays queued and the watchdog sends it again.
    """
    step_run.status = StepRun.Status.QUEUED
    step_run.queued_at = timezone.now()
    step_run.save(update_fields=["status", "queued_at"])
    spec = get(run.workflow).step(step_run.name)
    transaction.on_commit(lambda: _send(spec, run.id, step_run.name), robust=True)


def _advance(run: WorkflowRun) -> None:
    """Queue the next ready stage, or finish the run. Caller holds the run's lock."""
    definition = get(run.workflow)
    steps = {s.name: s for s in run.steps.all()}
    for stage in definition.stages:
        states = [steps[spec.name] for spec in stage.steps]
        if all(s.status == StepRun.Status.SUCCEEDED for s in states):
            continue
        ready = [s for s in states if s.status == StepRun.Status.PENDING]
        for step_run in ready:
            _queue(run, step_run)
        return
    run.status = WorkflowRun.Status.SUCCEEDED
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "finished_at"])
    if definition.on_success:
        definition.on_success(run)


def _context(run: WorkflowRun, step_run: StepRun) -> StepContext:
    results = dict(run.steps.filter(status=StepRun.Status.SUCCEEDED).values_list("name", "result"))
    return StepContext(
        run_id=run.id,
        workflow=run.workflow,
        step=step_run.name,
        subject_id=run.subject_id,
        input=run.input,
        results=results,
        attempt=step_run.attempts,
    )


def _own(step_run: StepRun) -> QuerySet[StepRun]:
    """The step's row, as long as this try (task id and attempt) is the one running it.

    Every write at the end of a try goes through it, so a stale copy of the message (a
    redelivery, a watchdog resend) cannot overwrite what the current try recorded.
    """
    return StepRun.objects.filter(
        pk=step_run.pk,
        status=StepRun.Status.RUNNING,
        task_id=step_run.task_id,
        attempts=step_run.attempts,
    )


def _succeed(run: WorkflowRun, step_run: StepRun, result: Any) -> None:
    """Record the try's result and move the run on. Caller holds the run's lock."""
    if run.status != WorkflowRun.Status.RUNNING:
        raise StepCancelled(f"Run {run.pk} is {run.status}; {step_run.name} is rolled back.")
    if isinstance(result, Wait):
        updated = _own(step_run).update(
            status=StepRun.Status.WAITING,
            result=result.result,
            waiting_for=result.signal,
            wait_deadline=timezone.now() + timedelta(seconds=result.timeout_seconds),
            timeout_reason=result.timeout_reason,
            error="",
            traceback="",
        )
    else:
        updated = _own(step_run).update(
            status=StepRun.Status.SUCCEEDED,
            result=result,
            finished_at=timezone.now(),
            error="",
            traceback="",
        )
    if not updated:
        raise _Superseded(f"{step_run.name} of run {run.pk} was taken over by another try.")
    if not isinstance(result, Wait):
        _advance(run)


def step_execute(*, run_id: uuid.UUID | str, step_name: str, task_id: str = "") -> StepOutcome:
    """Run one step of a run (the body of every step task)."""
    with transaction.atomic():
        run = _lock(run_id)
        step_run = StepRun.objects.get(run=run, name=step_name)
        # A step already running may run again only on redelivery of the same message
        # (its worker died); any other copy of the message is a duplicate.
        redelivered = step_run.status == StepRun.Status.RUNNING and step_run.task_id == task_id
        runnable = step_run.status in RUNNABLE or redelivered
        if run.status != WorkflowRun.Status.RUNNING or not runnable:
            return StepOutcome(status="not-runnable")
        step_run.status = StepRun.Status.RUNNING
        step_run.attempts += 1
        step_run.started_at = timezone.now()
        step_run.finished_at = None
        step_run.retry_at = None
        step_run.task_id = task_id
        step_run.save(
            update_fields=["status", "attempts", "started_at", "finished_at", "retry_at", "task_id"]
        )
    spec = get(run.workflow).step(step_name)
    ctx = _context(run, step_run)
    try:
        with _in_flow(run):
            if spec.atomic:
                with transaction.atomic():
                    # The run is locked before whatever the step locks, as on every path
                    # that changes a run and its subject (cancel, signal, compensation).
                    locked = _lock(run.id)
                    _succeed(locked, step_run, spec.fn(ctx))
            else:
                result = spec.fn(ctx)
                try:
                    with transaction.atomic():
                        _succeed(_lock(run.id), step_run, result)
                except StepCancelled:
                    return _finished_late(run.id, spec, step_run, result)
    except _Superseded:
        return StepOutcome(status="superseded")
    except StepCancelled as exc:
        return _stop(run.id, step_run, exc)
    except Exception as exc:
        return _fail(run.id, spec, step_run, exc)
    return StepOutcome(status=StepRun.Status.SUCCEEDED)


def _finished_late(
    run_id: uuid.UUID, spec: StepSpec, step_run: StepRun, result: Any
) -> StepOutcome:
    """Record outside work that finished after its run stopped, and have it undone.

    The run's compensation passed this step by while it was running, but its effect (a
    captured charge, a booked parcel) is out there now. The step is recorded as done,
    which is the truth, and its compensation is sent as a task of its own: it retries
    a few times, and the watchdog sends it again while the step is still in effect.
    """
    with transaction.atomic():
        run = _lock(run_id)
        note = f"Finished after its run became {run.status}."
        if spec.compensate is not None:
            note += " Its compensation undoes it."
        now = timezone.now()
        updated = _own(step_run).update(
            status=StepRun.Status.SUCCEEDED,
            result=result.result if isinstance(result, Wait) else result,
            finished_at=now,
            retry_at=now,  # when its compensation was sent
            error=note,
            traceback="",
        )
        if not updated:
            return StepOutcome(status="superseded")
        if spec.compensate is not None:
            _send_step_compensation(run.pk, step_run.name)
    return StepOutcome(status="late")


def _send_step_compensation(run_id: uuid.UUID, step_name: str) -> None:
    from ..tasks import compensate_step

    transaction.on_commit(
        lambda: compensate_step.delay(run_id=str(run_id), step=step_name), robust=True
    )


def step_compensate(*, run_id: uuid.UUID | str, step_name: str) -> StepRun:
    """Undo one completed step of a stopped run, if it is still in effect.

    A run that stopped (cancelled, failed) undoes its completed steps; a step that
    completed only afterwards is undone here. A run retried meanwhile keeps the step:
    its work counts again.
    """
    with transaction.atomic():
        run = _lock(run_id)
        step_run = run.steps.get(name=step_name)
        spec = get(run.workflow).step(step_name)
        stopped = run.status in (WorkflowRun.Status.CANCELLED, WorkflowRun.Status.FAILED)
        if not stopped or step_run.status != StepRun.Status.SUCCEEDED or spec.compensate is None:
            return step_run
        with _in_flow(run):
            spec.compensate(_context(run, step_run))
        step_run.status = StepRun.Status.COMPENSATED
        step_run.compensated_at = timezone.now()
        step_run.save(update_fields=["status", "compensated_at"])
    return step_run


def _stop(run_id: uuid.UUID, step_run: StepRun, exc: StepCancelled) -> StepOutcome:
    """Skip a step that found its run or its subject stopped.

    A run still running stops here too: its subject moved on without it (an order
    cancelled or expired elsewhere), so it is cancelled and its completed steps undone,
    rather than left running with nothing left to queue.
    """
    with transaction.atomic():
        run = _lock(run_id)
        now = timezone.now()
        if not _own(step_run).update(
            status=StepRun.Status.SKIPPED, error=str(exc), finished_at=now
        ):
            return StepOutcome(status="superseded")
        if run.status == WorkflowRun.Status.RUNNING:
            logger.warning("Run %s stops: %s says %s", run.pk, step_run.name, exc)
            with _in_flow(run):
                _compensate(run)
            run.status = WorkflowRun.Status.CANCELLED
            run.error = f"{step_run.name}: {exc}"
            run.failure_reason = "cancelled"
            run.finished_at = now
            run.save(update_fields=["status", "error", "failure_reason", "finished_at"])
    return StepOutcome(status=StepRun.Status.SKIPPED)


def _fail(run_id: uuid.UUID, spec: StepSpec, step_run: StepRun, exc: Exception) -> StepOutcome:
    error = f"{type(exc).__name__}: {exc}"
    tb = "".join(traceback.format_exception(exc))
    if spec.retry.should_retry(exc, step_run.attempts):
        delay = spec.retry.delay(step_run.attempts)
        retry_at = timezone.now() + timedelta(seconds=delay)
        if not _own(step_run).update(
            status=StepRun.Status.RETRYING, error=error, traceback=tb, retry_at=retry_at
        ):
            return StepOutcome(status="superseded")
        logger.warning(
            "Step %s of run %s failed, retry in %.1fs: %s", spec.name, run_id, delay, error
        )
        return StepOutcome(status=StepRun.Status.RETRYING, retry_in=delay)
    reason = exc.reason if isinstance(exc, StepFailed) else f"{spec.name}_failed"
    with transaction.atomic():
        run = _lock(run_id)
        if not _own(step_run).exists():
            return StepOutcome(status="superseded")
        logger.warning("Step %s of run %s failed for good: %s", spec.name, run_id, error)
        _fail_for_good(run, step_run, error=error, traceback_text=tb, reason=reason)
    return StepOutcome(status=StepRun.Status.FAILED)


def _fail_for_good(
    run: WorkflowRun, step_run: StepRun, *, error: str, traceback_text: str, reason: str
) -> None:
    """Mark the step failed and start compensating the run (past its point of no return,
    fail it as it stands instead). Caller holds the run's lock."""
    StepRun.objects.filter(pk=step_run.pk).update(
        status=StepRun.Status.FAILED,
        error=error,
        traceback=traceback_text,
        finished_at=timezone.now(),
        waiting_for="",  # wait_deadline stays: it marks a step that did its part, then waited
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
    run.status = WorkflowRun.Status.COMPENSATING
    run.save(update_fields=["status", "error", "failure_reason"])
    from ..tasks import compensate_workflow

    transaction.on_commit(lambda: compensate_workflow.delay(run_id=str(run.pk)), robust=True)


def _past_point_of_no_return(run: WorkflowRun) -> bool:
    point = get(run.workflow).point_of_no_return
    return point is not None and (
        run.steps.filter(name=point.name, status=StepRun.Status.SUCCEEDED).exists()
    )


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
    run = _lock(run.pk)
    step_run = run.steps.filter(status=StepRun.Status.WAITING, waiting_for=signal).first()
    if run.status != WorkflowRun.Status.RUNNING or step_run is None:
        return False
    if failure_reason:
        _fail_for_good(
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
    _advance(run)
    return True


def workflow_fire_timers() -> int:
    """Fail the waiting steps whose deadline passed; return how many."""
    expired = StepRun.objects.filter(
        status=StepRun.Status.WAITING, wait_deadline__lt=timezone.now()
    ).values_list("pk", flat=True)
    fired = 0
    for step_pk in list(expired):
        with transaction.atomic():
            step_run = StepRun.objects.select_related("run").get(pk=step_pk)
            run = _lock(step_run.run_id)
            step_run.refresh_from_db()
            if step_run.status != StepRun.Status.WAITING:
                continue
            waited = step_run.wait_deadline - step_run.started_at if step_run.started_at else None
            _fail_for_good(
                run,
                step_run,
                error=f"No {step_run.waiting_for!r} signal in time (waited {waited}).",
                traceback_text="",
                reason=step_run.timeout_reason or "timeout",
            )
            fired += 1
    return fired


def _compensate(run: WorkflowRun) -> None:
    """Undo the succeeded steps in reverse order; skip those that never ran."""
    definition = get(run.workflow)
    step_runs = list(run.steps.all())
    for step_run in reversed(step_runs):
        if step_run.status in (StepRun.Status.PENDING, StepRun.Status.QUEUED):
            step_run.status = StepRun.Status.SKIPPED
            step_run.save(update_fields=["status"])
            continue
        # A step that did its part and then waited (for a signal that failed or never came)
        # is undone like a completed one.
        waited = step_run.status == StepRun.Status.FAILED and step_run.wait_deadline is not None
        if step_run.status not in (StepRun.Status.SUCCEEDED, StepRun.Status.WAITING) and not waited:
            continue
        spec = definition.step(step_run.name)
        if spec.compensate is not None:
            spec.compensate(_context(run, step_run))
            step_run.status = StepRun.Status.COMPENSATED
            step_run.compensated_at = timezone.now()
            step_run.waiting_for = ""
            step_run.save(update_fields=["status", "compensated_at", "waiting_for"])
        elif step_run.status == StepRun.Status.WAITING:
            step_run.status = StepRun.Status.SKIPPED
            step_run.waiting_for = ""
            step_run.save(update_fields=["status", "waiting_for"])


def workflow_compensate(*, run_id: uuid.UUID | str) -> WorkflowRun:
    """Compensate a failed run and mark it failed, in one transaction."""
    with transaction.atomic():
        run = _lock(run_id)
        if run.status != WorkflowRun.Status.COMPENSATING:
            return run
        with _in_flow(run):
            _compensate(run)
            run.status = WorkflowRun.Status.FAILED
            run.finished_at = timezone.now()
            run.save(update_fields=["status", "finished_at"])
            definition = get(run.workflow)
            if definition.on_failure:
                definition.on_failure(run)
    return run


@transaction.atomic
def workflow_cancel(*, run: WorkflowRun, reason: str = "cancelled") -> WorkflowRun:
    """Stop a run and undo what its completed steps did, in reverse order.

    The workflow's ``before_cancel`` hook may refuse first (``CancelRefused``): then
    nothing is undone, which matters when undoing calls the outside world (a refund).
    Its ``on_cancel`` hook then updates the subject; a refusal there rolls back too.
    """
    run = _lock(run.pk)
    if run.is_terminal:
        return run
    definition = get(run.workflow)
    if definition.before_cancel:
        definition.before_cancel(run)
    with _in_flow(run):
        _compensate(run)
        run.status = WorkflowRun.Status.CANCELLED
        run.failure_reason = reason
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "failure_reason", "finished_at"])
        if definition.on_cancel:
            definition.on_cancel(run)
    return run


@transaction.atomic
def workflow_retry(*, run: WorkflowRun) -> WorkflowRun:
    """Run a failed run again from its failed step; steps still in effect are not rerun."""
    run = _lock(run.pk)
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
        timeout_reason="",
        retry_at=None,
    )
    run.status = WorkflowRun.Status.RUNNING
    run.error = ""
    run.failure_reason = ""
    run.finished_at = None
    run.save(update_fields=["status", "error", "failure_reason", "finished_at"])
    definition = get(run.workflow)
    if definition.on_retry:
        definition.on_retry(run)
    _advance(run)
    return run


def workflow_resume_stalled() -> int:
    """Send again the steps whose message was lost; return how many.

    A step queued long ago whose send failed (broker down at commit), one "running"
    far past its time limit (its worker died and the broker did not redeliver), or one
    whose retry is long overdue (the delayed message died with its worker) is queued
    again. A duplicate message is harmless: only one copy can start the step.
    """
    now = timezone.now()
    stall = timedelta(seconds=events_settings.WORKFLOW_STALL_SECONDS)
    candidates = StepRun.objects.filter(run__status=WorkflowRun.Status.RUNNING).filter(
        status__in=[StepRun.Status.QUEUED, StepRun.Status.RUNNING, StepRun.Status.RETRYING]
    )
    resumed = 0
    for step_run in candidates.select_related("run"):
        spec = get(step_run.run.workflow).step(step_run.name)
        if step_run.status == StepRun.Status.QUEUED:
            stalled = step_run.queued_at is None or step_run.queued_at < now - stall
        elif step_run.status == StepRun.Status.RETRYING:
            stalled = step_run.retry_at is None or step_run.retry_at < now - stall
        else:
            limit = timedelta(seconds=spec.time_limit) + stall
            stalled = step_run.started_at is None or step_run.started_at < now - limit
        if not stalled:
            continue
        with transaction.atomic():
            run = _lock(step_run.run_id)
            fresh = StepRun.objects.get(pk=step_run.pk)
            # Still exactly as it was read: no try started or retried it since.
            unchanged = all(
                getattr(fresh, name) == getattr(step_run, name)
                for name in ("status", "attempts", "task_id", "queued_at", "retry_at")
            )
            if run.status == WorkflowRun.Status.RUNNING and unchanged:
                logger.warning("Resuming stalled step %s of run %s", fresh.name, run.pk)
                _queue(run, fresh)
                resumed += 1
    resumed += _resume_stalled_compensations(now - stall)
    resumed += _resume_step_compensations(now - stall)
    return resumed


def _resume_step_compensations(cutoff) -> int:  # type: ignore[no-untyped-def]
    """Send again, once per stall period, the undo of a step still in effect in a stopped run.

    Only a step that completed after its run stopped can be in that state: a run's own
    compensation undoes its completed steps in the transaction that stops it.
    """
    in_effect = StepRun.objects.filter(
        status=StepRun.Status.SUCCEEDED,
        retry_at__lt=cutoff,
        run__status__in=[WorkflowRun.Status.CANCELLED, WorkflowRun.Status.FAILED],
    ).select_related("run")
    resent = 0
    for step_run in in_effect:
        if get(step_run.run.workflow).step(step_run.name).compensate is None:
            continue
        logger.warning("Resending the compensation of %s of run %s", step_run.name, step_run.run_id)
        with transaction.atomic():
            StepRun.objects.filter(pk=step_run.pk).update(retry_at=timezone.now())
            _send_step_compensation(step_run.run_id, step_run.name)
        resent += 1
    return resent


def _resume_stalled_compensations(cutoff) -> int:  # type: ignore[no-untyped-def]
    from django.db.models import Max

    from ..tasks import compensate_workflow

    stalled = (
        WorkflowRun.objects.filter(status=WorkflowRun.Status.COMPENSATING)
        .annotate(failed_at=Max("steps__finished_at"))
        .filter(failed_at__lt=cutoff)
        .values_list("pk", flat=True)
    )
    run_ids = [str(pk) for pk in stalled]
    for run_id in run_ids:
        logger.warning("Resuming the stalled compensation of run %s", run_id)
        compensate_workflow.delay(run_id=run_id)
    return len(run_ids)
