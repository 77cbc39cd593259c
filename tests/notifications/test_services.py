"""Sending a notification: rendered from its kind's templates, written once, mailed after commit."""

import pytest

from notifications.models import Notification
from notifications.services import notification_render, notification_send, order_update_notify

pytestmark = pytest.mark.django_db

Kind = Notification.Kind


def test_each_kind_has_a_subject_and_a_body():
    context = {"order_id": 7, "reason": "payment declined", "lines": [], "total": "0.00"}

    for kind in Kind:
        subject, body = notification_render(kind=kind, context=context)

        assert subject and "\n" not in subject, kind
        assert body, kind


def test_order_updates_read_as_they_always_have():
    texts = {
        kind: notification_render(kind=kind, context={"order_id": 7, "reason": "out of stock"})
        for kind in (Kind.ORDER_FULFILLED, Kind.ORDER_FAILED, Kind.ORDER_CANCELLED)
    }

    assert texts == {
        Kind.ORDER_FULFILLED: ("Your order 7 is on its way", "Order 7 was shipped."),
        Kind.ORDER_FAILED: (
            "Your order 7 could not be completed",
            "Order 7 failed: out of stock. You have not been charged.",
        ),
        Kind.ORDER_CANCELLED: ("Your order 7 was cancelled", "Order 7 was cancelled."),
    }


def test_messages_are_plain_text_not_escaped_html(customer):
    notification = notification_send(
        recipient=customer,
        kind=Kind.ORDER_FAILED,
        context={"order_id": 1, "reason": "<card> & 'issuer'"},
    )

    assert notification.body == "Order 1 failed: <card> & 'issuer'. You have not been charged."


def test_an_email_notification_is_written_once_and_mailed_once_after_commit(
    customer, mailoutbox, django_capture_on_commit_callbacks
):
    def send() -> Notification:
        return notification_send(
            recipient=customer,
            kind=Kind.ORDER_FULFILLED,
            context={"order_id": 3},
            channel=Notification.Channel.EMAIL,
            order_id=3,
        )

    with django_capture_on_commit_callbacks(execute=True):
        first = send()
        assert mailoutbox == []  # nothing leaves before the commit
    with django_capture_on_commit_callbacks(execute=True):
        second = send()

    assert second == first
    assert Notification.objects.filter(user=customer).count() == 1
    assert [(mail.subject, mail.body, mail.to) for mail in mailoutbox] == [
        ("Your order 3 is on its way", "Order 3 was shipped.", [customer.email])
    ]


def test_an_in_app_notification_sends_no_mail(
    customer, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notification = notification_send(
            recipient=customer, kind=Kind.ORDER_CANCELLED, context={"order_id": 4}, order_id=4
        )

    assert notification.channel == Notification.Channel.IN_APP
    assert mailoutbox == []


def test_an_order_update_tells_the_reason_in_words(customer):
    notification = order_update_notify(
        customer_id=customer.pk,
        order_id=5,
        kind=Kind.ORDER_FAILED,
        event_id=None,  # type: ignore[arg-type]
        reason="payment_declined",
    )

    assert (notification.kind, notification.channel) == ("order_failed", "in_app")
    assert notification.body == "Order 5 failed: payment declined. You have not been charged."
