"""Replaying stored history to one subscriber."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from events.models import Delivery, Event
from events.services import event_replay
from orders.services import LineInput, order_place

pytestmark = pytest.mark.django_db

SUBSCRIBER = "orders.start_fulfillment"


@pytest.fixture
def placed(customer, catalog, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks():  # nothing is published in these unit tests
        orders = [
            order_place(
                customer=customer, lines=[LineInput("MUG-LOGO", 1)], payment_token="tok_ok"
            )[0]
            for _ in range(3)
        ]
    return [Event.objects.get(type="order.placed", aggregate_id=str(o.pk)) for o in orders]


@pytest.fixture
def sent(monkeypatch):  # type: ignore[no-untyped-def]
    """The deliver messages the replay sends (the publish boundary, recorded)."""
    messages: list[dict] = []
    monkeypatch.setattr("events.tasks.deliver.delay", lambda **kwargs: messages.append(kwargs))
    return messages


def test_replay_reopens_the_subscribers_deliveries_and_sends_each_event(
    placed, sent, django_capture_on_commit_callbacks
):
    Delivery.objects.create(event=placed[0], subscriber=SUBSCRIBER, status="succeeded", attempts=1)

    with django_capture_on_commit_callbacks(execute=True):
        count = event_replay(subscriber=SUBSCRIBER)

    assert count == 3
    deliveries = Delivery.objects.filter(subscriber=SUBSCRIBER)
    assert sorted(deliveries.values_list("status", "attempts")) == [("pending", 0)] * 3
    assert [m["event_id"] for m in sent] == [str(e.id) for e in placed]
    assert {m["subscriber"] for m in sent} == {SUBSCRIBER}


def test_replay_can_be_narrowed_to_one_aggregate(placed, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        count = event_replay(
            subscriber=SUBSCRIBER, aggregate_type="order", aggregate_id=placed[1].aggregate_id
        )

    assert count == 1
    assert Delivery.objects.get().event_id == placed[1].id
    assert [m["event_id"] for m in sent] == [str(placed[1].id)]


def test_the_replay_command_rejects_an_unknown_subscriber_and_a_bad_aggregate(placed):
    with pytest.raises(CommandError, match="Unknown subscriber: nobody"):
        call_command("events", "replay", "--subscriber", "nobody")
    with pytest.raises(CommandError, match="TYPE:ID"):
        call_command("events", "replay", "--subscriber", SUBSCRIBER, "--aggregate", "42")
