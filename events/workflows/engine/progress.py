"""A run's bookkeeping, shared by every move of the engine: locks, queueing, advancing.

No chords: when a step commits its success it locks its run and queues whatever steps
are now ready, so a parallel group joins without result-backend polling, and a run
picks up where its rows say it is.
"""

import uuid
from contextlib import AbstractContextManager, nullcontext

from django.db.models import QuerySet
from django.utils import timezone

from ... import dispatch
from ...conf import events_settings
from ...context import caused_by
from ...models import StepRun, WorkflowRun
from ...retry import backoff_delay
from ..definition import StepContext, StepFailed, StepSpec
from ..registry import get

RUNNABLE = (StepRun.Status.QUEUED, StepRun.Status.RETRYING)


def lock_run(run_id: uuid.UUID | str) -> WorkflowRun:
    """Lock the run's row: every path that changes a run and its subject locks it first."""
    return WorkflowRun.objects.select_for_update().get(pk=run_id)


def in_flow(run: WorkflowRun) -> AbstractContextManager[None]:
    """Events emitted by the run's steps and compensations share its correlation id, and
    name what started the run as their cause."""
    if run.correlation_id is None:
        return nullcontext()
    return caused_by(
        correlation_id=run.correlation_id, causation_id=run.causation_id, run_id=run.id
    )


def step_context(run: WorkflowRun, step_run: StepRun) -> StepContext:
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


def owned(step_run: StepRun) -> QuerySet[StepRun]:
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


def queue_step(run: WorkflowRun, step_run: StepRun) -> None:
    """Mark the step queued and send its task after commit.

    If the send fails (broker down) the step stays queued and the watchdog sends it again.
    """
    step_run.status = StepRun.Status.QUEUED
    step_run.queued_at = timezone.now()
    step_run.save(update_fields=["status", "queued_at"])
    spec = get(run.workflow).step(step_run.name)
    dispatch.step_on_commit(spec.task_name, run.id, step_run.name)


def advance(run: WorkflowRun) -> None:
    """Queue the next ready stage, or finish the run. Caller holds the run's lock."""
    definition = get(run.workflow)
    steps = {s.name: s for s in run.steps.all()}
    for stage in definition.stages:
        states = [steps[spec.name] for spec in stage.steps]
        if all(s.status == StepRun.Status.SUCCEEDED for s in states):
            continue
        ready = [s for s in states if s.status == StepRun.Status.PENDING]
        for step_run in ready:
            queue_step(run, step_run)
        return
    run.status = WorkflowRun.Status.SUCCEEDED
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "finished_at"])
    if definition.on_success:
        definition.on_success(run)


# --- Compensation bookkeeping, shared by the run's compensation and a late step's undo ---


def in_effect(step_run: StepRun) -> bool:
    """Whether the step's work is out there: it completed, or did its part and waited."""
    return step_run.status in (StepRun.Status.SUCCEEDED, StepRun.Status.WAITING) or (
        step_run.status == StepRun.Status.FAILED and step_run.waited
    )


def needs_undoing(step_run: StepRun, spec: StepSpec) -> bool:
    """Whether the run's compensation calls this step's compensation: the step is in
    effect, or its outcome is unknown (a lost answer may hide a charge made)."""
    if spec.compensate is None:
        return False
    return in_effect(step_run) or outcome_unknown(step_run, spec)


def outcome_unknown(step_run: StepRun, spec: StepSpec) -> bool:
    """An outside call that failed (for good, or waiting for a retry that a stopped run
    will not give it) and was not undone yet: it may have taken effect all the same."""
    failed = step_run.status == StepRun.Status.RETRYING or (
        step_run.status == StepRun.Status.FAILED and not step_run.waited
    )
    return failed and not spec.atomic and step_run.compensated_at is None


def begin_compensation(run: WorkflowRun, *, ends_as: str) -> None:
    """Claim the run for compensating; its compensation task is sent after commit.

    The status is the claim: every other move (a step's try, a signal, a cancel) only acts
    on a running run, so the compensation can call the outside world without holding the
    run's lock. Caller holds the run's lock.
    """
    run.status = WorkflowRun.Status.COMPENSATING
    run.compensation_ends_as = ends_as
    run.compensation_attempts = 0
    run.compensation_error = ""
    run.compensation_tried_at = timezone.now()
    run.finished_at = None
    run.save(
        update_fields=[
            "status",
            "compensation_ends_as",
            "compensation_attempts",
            "compensation_error",
            "compensation_tried_at",
            "finished_at",
            "error",
            "failure_reason",
        ]
    )
    dispatch.workflow_compensation_on_commit(run.pk)


def compensation_failed_try(run: WorkflowRun, step_name: str, exc: Exception) -> float | None:
    """Count a compensation that raised: the delay before the next try, or None when the
    run ends ``compensation_failed``: its tries are spent, or the compensation raised
    ``StepFailed`` (retrying cannot heal it, e.g. the provider refused the refund).
    Caller holds the run's lock."""
    run.compensation_attempts += 1
    run.compensation_tried_at = timezone.now()
    error = f"{step_name}: {type(exc).__name__}: {exc}"
    run.compensation_error = error
    retryable = not isinstance(exc, StepFailed)
    fields = ["compensation_attempts", "compensation_tried_at", "compensation_error"]
    if retryable and run.compensation_attempts < events_settings.COMPENSATION_MAX_ATTEMPTS:
        run.save(update_fields=fields)
        return backoff_delay(
            run.compensation_attempts,
            base=events_settings.COMPENSATION_BACKOFF_SECONDS,
            cap=events_settings.COMPENSATION_MAX_BACKOFF_SECONDS,
        )
    if run.status in WorkflowRun.COMPENSATION_ENDS and not run.compensation_ends_as:
        run.compensation_ends_as = run.status  # a stopped run undoing a late step
        fields.append("compensation_ends_as")
    run.status = WorkflowRun.Status.COMPENSATION_FAILED
    run.finished_at = timezone.now()
    run.save(update_fields=[*fields, "status", "finished_at"])
    return None
