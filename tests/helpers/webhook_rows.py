"""Events fanned out to webhook subscriptions, made the way the product makes them."""

from django.db import transaction

from events.envelope import Envelope
from events.models import Event
from events.services import event_emit
from notifications.models import WebhookDelivery
from notifications.services import webhook_deliveries_create


def emit(aggregate: str = "a", n: int = 1, type: str = "probe.tick") -> Event:
    with transaction.atomic():
        return event_emit(type=type, aggregate_id=aggregate, payload={"n": n})


def fan_out(event: Event) -> list[WebhookDelivery]:
    with transaction.atomic():
        return webhook_deliveries_create(event=Envelope.from_event(event))
