"""The order confirmation: the texts the customer gets, sent once, after commit."""

import pytest

from notifications.models import Notification
from orders.services import LineInput, order_confirmation_send, order_place

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(customer, catalog):  # type: ignore[no-untyped-def]
    order, _ = order_place(
        customer=customer,
        lines=[LineInput("MUG-LOGO", 1), LineInput("CAP-NAVY", 2)],
        payment_token="tok_ok",
    )
    return order


def test_the_confirmation_names_the_order_its_lines_and_its_total(customer, order):
    notification = order_confirmation_send(order_id=order.pk)

    assert (notification.user, notification.order_id) == (customer, order.pk)
    assert (notification.channel, notification.kind) == ("email", "order_confirmation")
    assert notification.subject == f"Order {order.pk} confirmed"
    assert notification.body == (
        f"Thank you! We received order {order.pk}:\n"
        "  1 x Mug with logo\n"
        "  2 x Cap, navy\n"
        "Total: 42.50"
    )


def test_the_confirmation_is_mailed_once_after_commit(
    customer, order, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = order_confirmation_send(order_id=order.pk)
    with django_capture_on_commit_callbacks(execute=True):
        again = order_confirmation_send(order_id=order.pk)

    assert again == first
    assert Notification.objects.filter(order_id=order.pk).count() == 1
    assert [(mail.subject, mail.to) for mail in mailoutbox] == [
        (f"Order {order.pk} confirmed", [customer.email])
    ]
