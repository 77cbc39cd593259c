"""The order-updates subscriber: an order's end states and refunds tell its customer once."""

import pytest
from django.db import transaction

from events import dispatch, subscriptions
from events.envelope import Envelope
from events.models import Delivery, Event
from events.services import delivery_run, event_emit, event_replay
from events.services.delivery import deliveries_create
from notifications.models import Notification, NotificationPreference
from orders.services import LineInput, order_cancel, order_fail, order_place

pytestmark = pytest.mark.django_db

SUBSCRIBER = "notifications.order_updates"


@pytest.fixture
def order(customer, catalog):  # type: ignore[no-untyped-def]
    order, _ = order_place(
        customer=customer, lines=[LineInput("MUG-LOGO", 1)], payment_token="tok_ok"
    )
    return order


def handle(event_type: str, order) -> Envelope:  # type: ignore[no-untyped-def]
    """Run the order-updates subscriber on the order's latest ``event_type`` event."""
    event = Event.objects.filter(type=event_type, aggregate_id=str(order.pk)).latest("sequence")
    envelope = Envelope.from_event(event)
    subscriptions.get(SUBSCRIBER).handler(envelope)
    return envelope


def told(order) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    rows = Notification.objects.filter(order_id=order.pk).order_by("channel")
    return list(rows.values_list("kind", "channel", "status"))


def test_the_order_updates_subscriber_listens_to_the_end_states_and_refunds():
    sub = subscriptions.get(SUBSCRIBER)

    assert sub.event_types == {
        "order.fulfilled",
        "order.failed",
        "order.cancelled",
        "payment.refunded",
    }


def test_a_cancelled_order_tells_its_customer_once_per_channel_even_if_handled_twice(
    customer, order, queued_emails, django_capture_on_commit_callbacks
):
    order_cancel(order=order)

    with django_capture_on_commit_callbacks(execute=True):
        first = handle("order.cancelled", order)
        handle("order.cancelled", order)

    assert told(order) == [
        ("order_cancelled", "email", "queued"),
        ("order_cancelled", "in_app", "sent"),
    ]
    for notification in Notification.objects.filter(order_id=order.pk):
        assert notification.user == customer
        assert notification.subject == f"Your order {order.pk} was cancelled"
        assert notification.event_id == first.id
    email = Notification.objects.get(order_id=order.pk, channel="email")
    assert queued_emails == [{"notification_id": str(email.pk)}]


def test_an_event_replayed_through_the_engine_sends_no_second_email_or_message(
    order, broker, send_emails, django_capture_on_commit_callbacks
):
    order_cancel(order=order)
    cancelled = Event.objects.get(type="order.cancelled", aggregate_id=str(order.pk))
    with django_capture_on_commit_callbacks(execute=True):
        for event_id, name in deliveries_create([(cancelled.id, cancelled.type)]):
            delivery_run(event_id=event_id, subscriber=name)

    with django_capture_on_commit_callbacks(execute=True):
        assert event_replay(subscriber=SUBSCRIBER, aggregate_id=str(order.pk)) == 1
    for message in broker.of(dispatch.DELIVER):  # the replay reopened the inbox
        with django_capture_on_commit_callbacks(execute=True):
            delivery_run(**message)

    assert [m.subject for m in send_emails()] == [f"Your order {order.pk} was cancelled"]
    assert Notification.objects.filter(order_id=order.pk).count() == 2
    delivery = Delivery.objects.get(event=cancelled, subscriber=SUBSCRIBER)
    assert (delivery.status, delivery.attempt_log.count()) == ("succeeded", 2)  # ran again


def test_a_failed_order_notification_says_why(order):
    order_fail(order_id=order.pk, reason="payment_declined")

    handle("order.failed", order)

    for notification in Notification.objects.filter(order_id=order.pk):
        assert notification.kind == "order_failed"
        assert "payment declined" in notification.body


def test_a_refund_tells_the_customer_how_much(customer, order):
    with transaction.atomic():
        event_emit(
            type="payment.refunded",
            aggregate_id=order.pk,
            payload={
                "order_id": order.pk,
                "customer_id": customer.pk,
                "amount": "12.50",
                "charge_id": "ch_1",
            },
        )

    handle("payment.refunded", order)

    assert told(order) == [
        ("order_refunded", "email", "queued"),
        ("order_refunded", "in_app", "sent"),
    ]
    email = Notification.objects.get(order_id=order.pk, channel="email")
    assert email.body.startswith(f"We refunded 12.50 for order {order.pk}.")


def test_a_refund_recorded_before_it_named_the_customer_tells_nobody(order):
    with transaction.atomic():
        event_emit(
            type="payment.refunded",
            aggregate_id=order.pk,
            payload={"order_id": order.pk, "amount": "12.50", "charge_id": "ch_1"},
        )

    handle("payment.refunded", order)

    assert told(order) == []


def test_a_customer_who_switched_emails_off_gets_the_message_in_the_app_only(
    customer, order, queued_emails, django_capture_on_commit_callbacks
):
    NotificationPreference.objects.create(
        user=customer, kind="order_cancelled", channel="email", enabled=False
    )
    order_cancel(order=order)

    with django_capture_on_commit_callbacks(execute=True):
        handle("order.cancelled", order)

    assert told(order) == [
        ("order_cancelled", "email", "skipped"),
        ("order_cancelled", "in_app", "sent"),
    ]
    assert queued_emails == []


def test_two_cancelled_orders_of_one_customer_give_two_notifications_each(customer, catalog):
    orders = [
        order_place(customer=customer, lines=[LineInput(sku, 1)], payment_token="tok_ok")[0]
        for sku in ("MUG-LOGO", "CAP-NAVY")
    ]
    for order in orders:
        order_cancel(order=order)
        handle("order.cancelled", order)

    notified = Notification.objects.filter(user=customer, kind="order_cancelled")
    assert sorted(notified.values_list("order_id", flat=True)) == sorted(
        o.pk for o in orders for _ in ("email", "in_app")
    )
