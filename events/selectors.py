"""Reads of the engine's tables, shared by the API, the admin and the domain apps."""

import uuid
from typing import NamedTuple

from django.db.models import Count, Min, Prefetch, QuerySet
from django.utils import timezone

from .models import DeadLetter, Event, OutboxEvent, StepRun, WorkflowRun


class OutboxBacklog(NamedTuple):
    pending: int
    lag_seconds: float  # age of the oldest unpublished row: how far the relay is behind


def outbox_backlog() -> OutboxBacklog:
    """How many outbox rows wait to be published, and for how long the oldest has: one query."""
    found = OutboxEvent.objects.pending().aggregate(n=Count("pk"), oldest=Min("created_at"))
    oldest = found["oldest"]
    lag = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    return OutboxBacklog(pending=found["n"], lag_seconds=lag)


def event_timeline(*, aggregate_type: str, aggregate_id: object) -> QuerySet[Event]:
    """The aggregate's events in emission order: sequence 1, 2, 3 ..."""
    return Event.objects.for_aggregate(aggregate_type, str(aggregate_id))


def aggregate_ids_in_flow(*, aggregate_type: str, correlation_id: uuid.UUID) -> list[str]:
    """Ids of the aggregates of this type that have an event of the flow."""
    return list(
        Event.objects.filter(aggregate_type=aggregate_type, correlation_id=correlation_id)
        .values_list("aggregate_id", flat=True)
        .distinct()
    )


def workflow_run_list() -> QuerySet[WorkflowRun]:
    return WorkflowRun.objects.prefetch_related(
        Prefetch("steps", queryset=StepRun.objects.order_by("stage", "id"))
    )


def workflow_run_for_subject(*, workflow: str, subject_id: object) -> WorkflowRun | None:
    return workflow_run_list().filter(workflow=workflow, subject_id=str(subject_id)).first()


def dead_letter_list() -> QuerySet[DeadLetter]:
    return DeadLetter.objects.select_related("delivery", "delivery__event")


def workflow_compensation_summary(run: WorkflowRun) -> dict[str, list[str]]:
    """Which steps a compensating (or compensation-failed) run has undone, and which are
    still in effect (completed, or did their part and waited) and not undone yet."""
    steps = list(run.steps.all())
    undone = [s.name for s in steps if s.status == StepRun.Status.COMPENSATED]
    not_undone = [
        s.name
        for s in steps
        if s.status in (StepRun.Status.SUCCEEDED, StepRun.Status.WAITING)
        or (s.status == StepRun.Status.FAILED and s.waited)
    ]
    return {"undone": undone, "not_undone": not_undone}
