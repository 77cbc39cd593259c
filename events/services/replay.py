"""Re-dispatching stored history to one subscriber."""

from datetime import datetime

from django.db import transaction

from .. import dispatch, subscriptions
from ..models import Delivery, Event


@transaction.atomic
def event_replay(
    *,
    subscriber: str,
    since: datetime | None = None,
    aggregate_type: str | None = None,
    aggregate_id: str | None = None,
) -> int:
    """Deliver the chosen past events to ``subscriber`` again; return how many.

    This deliberately reopens the subscriber's inbox for those events: it will handle them
    again, in order per aggregate. A subscriber added after the events happened gets them
    for the first time.
    """
    sub = subscriptions.get(subscriber)
    events = Event.objects.filter(sub.event_filter())
    if since is not None:
        events = events.filter(occurred_at__gte=since)
    if aggregate_type is not None:
        events = events.filter(aggregate_type=aggregate_type)
    if aggregate_id is not None:
        events = events.filter(aggregate_id=str(aggregate_id))
    event_ids = list(events.order_by("occurred_at", "sequence").values_list("id", flat=True))
    known = set(
        Delivery.objects.filter(subscriber=sub.name, event_id__in=event_ids).values_list(
            "event_id", flat=True
        )
    )
    Delivery.objects.filter(subscriber=sub.name, event_id__in=known).update(
        status=Delivery.Status.PENDING, attempts=0, last_error=""
    )
    Delivery.objects.bulk_create(
        Delivery(event_id=event_id, subscriber=sub.name)
        for event_id in event_ids
        if event_id not in known
    )
    for event_id in event_ids:
        dispatch.delivery_on_commit(event_id, sub.name)
    return len(event_ids)
