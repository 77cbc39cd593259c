"""The order confirmation: the texts the customer gets, by email and in the app, once."""

import pytest
from django.core import mail

from notifications.models import Notification
from notifications.services import email_deliver
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
    email = order_confirmation_send(order_id=order.pk)

    assert (email.user, email.order_id) == (customer, order.pk)
    assert (email.channel, email.kind, email.status) == ("email", "order_confirmation", "queued")
    assert email.subject == f"Order {order.pk} confirmed"
    assert email.body == (
        f"Thank you! We received order {order.pk}:\n"
        "  1 x Mug with logo\n"
        "  2 x Cap, navy\n"
        "Total: 42.50"
    )
    assert "<td>Cap, navy</td>" in email.html_body
    in_app = Notification.objects.get(order_id=order.pk, channel="in_app")
    assert (in_app.subject, in_app.body) == (email.subject, email.body)


def test_the_confirmation_is_recorded_once_and_queued_after_commit(
    settings, customer, order, broker, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        first = order_confirmation_send(order_id=order.pk)
    with django_capture_on_commit_callbacks(execute=True):
        again = order_confirmation_send(order_id=order.pk)

    assert again == first
    assert Notification.objects.filter(order_id=order.pk).count() == 2  # email and in-app
    assert broker.of("notifications.send_email") == [{"notification_id": str(first.pk)}]

    email_deliver(notification_id=first.pk)  # as the worker does

    assert [(m.subject, m.to) for m in mail.outbox] == [
        (f"Order {order.pk} confirmed", [customer.email])
    ]
