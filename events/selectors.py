"""Reads of the engine's tables, shared by the API, the admin and the domain apps."""

from django.db.models import Prefetch, QuerySet

from .models import DeadLetter, Event, StepRun, WorkflowRun


def event_list(
    *, aggregate_type: str | None = None, aggregate_id: str | None = None
) -> QuerySet[Event]:
    events = Event.objects.all()
    if aggregate_type is not None:
        events = events.filter(aggregate_type=aggregate_type)
    if aggregate_id is not None:
        events = events.filter(aggregate_id=str(aggregate_id))
    return events


def event_timeline(*, aggregate_type: str, aggregate_id: object) -> QuerySet[Event]:
    """The aggregate's events in emission order: sequence 1, 2, 3 ..."""
    return Event.objects.for_aggregate(aggregate_type, str(aggregate_id))


def workflow_run_list() -> QuerySet[WorkflowRun]:
    return WorkflowRun.objects.prefetch_related(
        Prefetch("steps", queryset=StepRun.objects.order_by("stage", "id"))
    )


def workflow_run_for_subject(*, workflow: str, subject_id: object) -> WorkflowRun | None:
    return workflow_run_list().filter(workflow=workflow, subject_id=str(subject_id)).first()


def dead_letter_list() -> QuerySet[DeadLetter]:
    return DeadLetter.objects.select_related("delivery", "delivery__event")
