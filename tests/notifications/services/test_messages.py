"""Sending a notification: rendered from its kind's templates, written once per channel."""

import pytest

from notifications.models import Notification
from notifications.services import (
    notification_render,
    notification_render_html,
    notification_send,
    order_update_notify,
)

pytestmark = pytest.mark.django_db

Kind = Notification.Kind
Channel = Notification.Channel
Status = Notification.Status


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


def test_a_refund_says_how_much():
    assert notification_render(
        kind=Kind.ORDER_REFUNDED, context={"order_id": 7, "amount": "25.00"}
    ) == (
        "Your order 7 was refunded",
        "We refunded 25.00 for order 7. It can take a few days to show on your statement.",
    )


def test_the_html_body_escapes_what_the_text_body_keeps():
    context = {"order_id": 1, "reason": "<card> & 'issuer'"}

    html = notification_render_html(kind=Kind.ORDER_FAILED, context=context)

    assert html.startswith("<!DOCTYPE html>")
    assert "Order 1 failed: &lt;card&gt; &amp; &#x27;issuer&#x27;." in html


def test_a_kind_without_an_html_template_has_no_html_body(settings, tmp_path):
    folder = tmp_path / "notifications" / "order_cancelled"
    folder.mkdir(parents=True)
    (folder / "subject.txt").write_text("Plain subject")
    (folder / "body.txt").write_text("Plain body")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path], "APP_DIRS": False}]

    assert notification_render_html(kind=Kind.ORDER_CANCELLED, context={}) == ""
    assert notification_render(kind=Kind.ORDER_CANCELLED, context={}) == (
        "Plain subject",
        "Plain body",
    )


def test_messages_are_plain_text_not_escaped_html(customer):
    notification = notification_send(
        recipient=customer,
        kind=Kind.ORDER_FAILED,
        context={"order_id": 1, "reason": "<card> & 'issuer'"},
    )

    assert notification.body == "Order 1 failed: <card> & 'issuer'. You have not been charged."


def test_an_in_app_notification_is_shown_at_once_and_queues_no_email(
    customer, queued_emails, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notification = notification_send(
            recipient=customer, kind=Kind.ORDER_CANCELLED, context={"order_id": 4}, order_id=4
        )

    assert (notification.channel, notification.status) == (Channel.IN_APP, Status.SENT)
    assert notification.sent_at is not None
    assert notification.html_body == ""
    assert queued_emails == []


def test_the_same_order_and_kind_notify_once_per_channel(customer):
    def send(channel: str) -> Notification:
        return notification_send(
            recipient=customer,
            kind=Kind.ORDER_CANCELLED,
            context={"order_id": 4},
            channel=channel,
            order_id=4,
        )

    in_app, email = send(Channel.IN_APP), send(Channel.EMAIL)

    assert in_app != email
    assert (send(Channel.IN_APP), send(Channel.EMAIL)) == (in_app, email)
    assert Notification.objects.count() == 2


def test_a_message_about_no_order_is_sent_once_per_event(customer):
    import uuid

    event_id = uuid.uuid4()

    def send(event: uuid.UUID | None) -> Notification:
        return notification_send(
            recipient=customer,
            kind=Kind.ORDER_CANCELLED,
            context={"order_id": 4},
            channel=Channel.EMAIL,
            event_id=event,
        )

    first = send(event_id)

    assert send(event_id) == first
    assert send(uuid.uuid4()) != first  # another event, another message
    assert send(None) != send(None)  # nothing to tell them apart: each call is a message
    assert Notification.objects.count() == 4


def test_an_order_update_tells_the_reason_in_words_in_the_app_and_by_email(customer):
    in_app, email = order_update_notify(
        customer_id=customer.pk,
        order_id=5,
        kind=Kind.ORDER_FAILED,
        event_id=None,  # type: ignore[arg-type]
        reason="payment_declined",
    )

    assert (in_app.kind, in_app.channel) == ("order_failed", "in_app")
    assert (email.kind, email.channel, email.status) == ("order_failed", "email", "queued")
    for notification in (in_app, email):
        assert notification.body == "Order 5 failed: payment declined. You have not been charged."
    assert "payment declined" in email.html_body
