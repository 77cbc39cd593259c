"""The order-updates subscriber: an order's end states notify its customer once."""

import pytest

from events import subscriptions
from events.envelope import Envelope
from events.models import Event
from notifications.models import Notification
from orders.services import LineInput, order_cancel, order_fail, order_place

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(customer, catalog):  # type: ignore[no-untyped-def]
    order, _ = order_place(
        customer=customer, lines=[LineInput("MUG-LOGO", 1)], payment_token="tok_ok"
    )
    return order


def handle(event_type: str, order) -> Envelope:  # type: ignore[no-untyped-def]
    """Run the order-updates subscriber on the order's latest ``event_type`` event."""
    event = Event.objects.get(type=event_type, aggregate_id=str(order.pk))
    envelope = Envelope.from_event(event)
    subscriptions.get("notifications.order_updates").handler(envelope)
    return envelope


def test_the_order_updates_subscriber_listens_to_the_end_states_of_an_order():
    sub = subscriptions.get("notifications.order_updates")

    assert sub.event_types == {"order.fulfilled", "order.failed", "order.cancelled"}


def test_a_cancelled_order_notifies_its_customer_once_even_if_handled_twice(customer, order):
    order_cancel(order=order)

    first = handle("order.cancelled", order)
    handle("order.cancelled", order)

    notification = Notification.objects.get(order_id=order.pk)
    assert notification.user == customer
    assert (notification.channel, notification.kind) == ("in_app", "order_cancelled")
    assert notification.subject == f"Your order {order.pk} was cancelled"
    assert notification.event_id == first.id


def test_a_failed_order_notification_says_why(customer, order):
    order_fail(order_id=order.pk, reason="payment_declined")

    handle("order.failed", order)
    handle("order.failed", order)

    notification = Notification.objects.get(order_id=order.pk)
    assert notification.kind == "order_failed"
    assert "payment declined" in notification.body


def test_two_cancelled_orders_of_one_customer_give_two_notifications(customer, catalog):
    orders = [
        order_place(customer=customer, lines=[LineInput(sku, 1)], payment_token="tok_ok")[0]
        for sku in ("MUG-LOGO", "CAP-NAVY")
    ]
    for order in orders:
        order_cancel(order=order)
        handle("order.cancelled", order)

    notified = Notification.objects.filter(user=customer, kind="order_cancelled")
    assert sorted(notified.values_list("order_id", flat=True)) == sorted(o.pk for o in orders)
