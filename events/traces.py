"""The story of one flow across processes: requests, events, deliveries, runs and steps.

A selector: ``manage.py events trace`` prints what it returns. A flow is found by its
correlation id, by the id of one of its events or requests, or by an aggregate
(``TYPE:ID``, or a bare ``ID`` of any type) whose events name their flows.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch

from .context import parse_id
from .models import Command, Delivery, DeliveryAttempt, Event, StepRun, WorkflowRun

NOTHING_FOUND = "No events, requests or runs are known by {reference!r}."

# Lines at the same instant read in this order.
_KINDS = ("request", "event", "run", "delivery", "attempt", "step", "compensation", "end")


class NothingToTrace(LookupError):
    pass


@dataclass(frozen=True)
class StoryLine:
    at: datetime
    kind: str  # one of _KINDS
    text: str
    task_id: str = ""


@dataclass(frozen=True)
class Story:
    correlation_ids: list[uuid.UUID]
    lines: list[StoryLine]


def flow_correlations(*, reference: str) -> list[uuid.UUID]:
    """The correlation ids ``reference`` names, oldest first; NothingToTrace if none."""
    reference = reference.strip()
    as_id = parse_id(reference)
    found = _correlation_of_id(as_id) if as_id is not None else None
    if found is not None:
        return [found]
    aggregate_type, sep, aggregate_id = reference.rpartition(":")
    events = Event.objects.filter(aggregate_id=aggregate_id)
    if sep:
        events = events.filter(aggregate_type=aggregate_type)
    ids = list(events.order_by("occurred_at").values_list("correlation_id", flat=True))
    if ids:
        return list(dict.fromkeys(ids))
    raise NothingToTrace(NOTHING_FOUND.format(reference=reference))


def _correlation_of_id(value: uuid.UUID) -> uuid.UUID | None:
    """``value`` as a correlation id, or the correlation of the event or request it names."""
    for model in (Event, Command, WorkflowRun):
        if model.objects.filter(correlation_id=value).exists():
            return value
    for model in (Event, Command):
        found = model.objects.filter(pk=value).values_list("correlation_id", flat=True).first()
        if found is not None:
            return found
    return None


def flow_story(*, reference: str) -> Story:
    """Everything recorded of the flows ``reference`` names, in time order."""
    correlation_ids = flow_correlations(reference=reference)
    commands = list(Command.objects.filter(correlation_id__in=correlation_ids))
    events = list(Event.objects.filter(correlation_id__in=correlation_ids))
    names = {c.id: f"request {c.id}" for c in commands}
    names.update({e.id: f"{e.type} {e.id}" for e in events})
    lines = [StoryLine(c.received_at, "request", f"{c.name} (request {c.id})") for c in commands]
    lines += [_event_line(event, names) for event in events]
    lines += _delivery_lines([event.id for event in events])
    lines += _run_lines(correlation_ids)
    lines.sort(key=lambda line: (line.at, _KINDS.index(line.kind)))
    return Story(correlation_ids=correlation_ids, lines=lines)


def _event_line(event: Event, names: dict[uuid.UUID, str]) -> StoryLine:
    cause = names.get(event.causation_id, str(event.causation_id)) if event.causation_id else ""
    text = f"{event.type} {event.aggregate_type}:{event.aggregate_id}#{event.sequence} {event.id}"
    return StoryLine(event.occurred_at, "event", text + (f", caused by {cause}" if cause else ""))


def _delivery_lines(event_ids: list[uuid.UUID]) -> list[StoryLine]:
    deliveries = (
        Delivery.objects.filter(event_id__in=event_ids)
        .select_related("event")
        .prefetch_related(
            Prefetch("attempt_log", queryset=DeliveryAttempt.objects.order_by("number"))
        )
    )
    lines = []
    for delivery in deliveries:
        about = f"{delivery.event.type} to {delivery.subscriber}"
        lines.append(StoryLine(delivery.created_at, "delivery", f"{about} ({delivery.status})"))
        for attempt in delivery.attempt_log.all():
            outcome = "succeeded" if attempt.succeeded else f"failed: {attempt.error}"
            text = f"{about}, attempt {attempt.number} {outcome} in {attempt.duration_ms}ms"
            lines.append(StoryLine(attempt.started_at, "attempt", text, attempt.task_id))
    return lines


def _run_lines(correlation_ids: list[uuid.UUID]) -> list[StoryLine]:
    runs = WorkflowRun.objects.filter(correlation_id__in=correlation_ids).prefetch_related(
        Prefetch("steps", queryset=StepRun.objects.order_by("stage", "id"))
    )
    lines = []
    for run in runs:
        name = f"{run.workflow} {run.subject_type}:{run.subject_id}"
        lines.append(StoryLine(run.started_at, "run", f"{name} started (run {run.id})"))
        if run.finished_at:
            why = f": {run.failure_reason}" if run.failure_reason else ""
            lines.append(StoryLine(run.finished_at, "end", f"{name} {run.status}{why}"))
        for step in run.steps.all():
            lines += _step_lines(run, step)
    return lines


def _step_lines(run: WorkflowRun, step: StepRun) -> list[StoryLine]:
    lines = []
    if step.started_at:
        took = f" in {int(step.duration.total_seconds() * 1000)}ms" if step.duration else ""
        tries = f"{step.attempts} attempt{'s' if step.attempts != 1 else ''}"
        text = f"{run.workflow} step {step.name}: {step.status} after {tries}{took}"
        lines.append(StoryLine(step.started_at, "step", text, step.task_id))
    if step.compensated_at:
        text = f"{run.workflow} step {step.name} compensated"
        lines.append(StoryLine(step.compensated_at, "compensation", text))
    return lines
