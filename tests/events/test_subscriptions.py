"""Subscribers of every event type: dispatched each one, in order per aggregate."""

from collections.abc import Iterator

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from events import subscriptions
from events.services import delivery_run, event_emit
from events.services.delivery import DeliveryResult, deliveries_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def everything() -> Iterator[list]:
    seen: list = []
    subscriptions.subscriber("test.everything", events=subscriptions.EVERY_EVENT)(
        lambda event: seen.append((event.type, event.sequence))
    )
    yield seen
    subscriptions._registry.pop("test.everything", None)


def test_a_subscriber_of_every_event_is_dispatched_each_type_declared(everything):
    with transaction.atomic():
        tick = event_emit(type="probe.tick", aggregate_id="x", payload={"n": 1})
        slow = event_emit(type="probe.slow", aggregate_id="x", payload={"n": 2})

    pairs = deliveries_create([(tick.id, tick.type), (slow.id, slow.type)])

    assert (tick.id, "test.everything") in pairs
    assert (slow.id, "test.everything") in pairs
    assert "test.everything" in {s.name for s in subscriptions.for_event_type("order.placed")}


def test_a_subscriber_of_every_event_takes_an_aggregates_events_in_order(everything):
    with transaction.atomic():
        first = event_emit(type="probe.tick", aggregate_id="x", payload={"n": 1})
        second = event_emit(type="probe.slow", aggregate_id="x", payload={"n": 2})
    deliveries_create([(first.id, first.type), (second.id, second.type)])

    early = delivery_run(event_id=second.id, subscriber="test.everything")
    delivery_run(event_id=first.id, subscriber="test.everything")
    late = delivery_run(event_id=second.id, subscriber="test.everything")

    assert (early.status, late.status) == (DeliveryResult.WAITING, DeliveryResult.SUCCEEDED)
    assert everything == [("probe.tick", 1), ("probe.slow", 2)]


def test_a_single_event_type_name_is_refused_in_place_of_a_list():
    with pytest.raises(ImproperlyConfigured, match="give a list of event types"):
        subscriptions.subscriber("test.typo", events="order.placed")
