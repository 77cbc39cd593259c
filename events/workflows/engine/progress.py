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
from ...context import caused_by
from ...models import StepRun, WorkflowRun
from ..definition import StepContext
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
