"""Replaying stored history to one subscriber."""

import pytest

from events import dispatch
from events.models import Delivery, Event
from events.services import event_replay
from orders.services import LineInput, order_place

pytestmark = pytest.mark.django_db

SUBSCRIBER = "orders.start_fulfillment"


@pytest.fixture
def placed_events(customer, catalog, django_capture_on_commit_callbacks) -> list[Event]:  # type: ignore[no-untyped-def]
    """The ``order.placed`` events of three orders, oldest first."""
    with django_capture_on_commit_callbacks():  # nothing is published in these unit tests
        orders = [
            order_place(
                customer=customer, lines=[LineInput("MUG-LOGO", 1)], payment_token="tok_ok"
            )[0]
            for _ in range(3)
        ]
    return [Event.objects.get(type="order.placed", aggregate_id=str(o.pk)) for o in orders]


@pytest.fixture
def sent(broker) -> list[dict]:  # type: ignore[no-untyped-def]
    """The deliver messages the replay sends (the publish boundary, recorded)."""
    return broker.of(dispatch.DELIVER)


def test_replay_reopens_the_subscribers_deliveries_and_sends_each_event(
    placed_events, sent, django_capture_on_commit_callbacks
):
    placed = placed_events
    Delivery.objects.create(event=placed[0], subscriber=SUBSCRIBER, status="succeeded", attempts=1)

    with django_capture_on_commit_callbacks(execute=True):
        count = event_replay(subscriber=SUBSCRIBER)

    assert count == 3
    deliveries = Delivery.objects.filter(subscriber=SUBSCRIBER)
    assert sorted(deliveries.values_list("status", "attempts")) == [("pending", 0)] * 3
    assert [m["event_id"] for m in sent] == [str(e.id) for e in placed]
    assert {m["subscriber"] for m in sent} == {SUBSCRIBER}


def test_replay_can_be_narrowed_to_one_aggregate(
    placed_events, sent, django_capture_on_commit_callbacks
):
    placed = placed_events
    with django_capture_on_commit_callbacks(execute=True):
        count = event_replay(
            subscriber=SUBSCRIBER, aggregate_type="order", aggregate_id=placed[1].aggregate_id
        )

    assert count == 1
    assert Delivery.objects.get().event_id == placed[1].id
    assert [m["event_id"] for m in sent] == [str(placed[1].id)]
