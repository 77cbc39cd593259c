"""Email on a real worker and a real SMTP server: a refused connection is recorded on the
email and retried until the server is there; a redelivered event sends nothing twice."""

import pytest

from events.models import Delivery, Event
from events.services import event_replay
from notifications.models import EmailAttempt, Notification
from tests.factories import order_body
from tests.integration.helpers import place, wait_for_status
from tests.processes import wait_until
from tests.smtp import SmtpServer, free_port

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SUBSCRIBER = "notifications.order_updates"


def emails(order_id: int) -> list[Notification]:
    return list(Notification.objects.filter(order_id=order_id, channel="email").order_by("pk"))


def test_an_smtp_failure_is_recorded_and_retried_and_a_redelivery_sends_nothing_twice(
    start_worker, customer, customer_client, catalog, wait_settled
):
    port = free_port()  # no mail server there yet: every connection is refused
    start_worker(
        env={
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(port),
            "EMAIL_TIMEOUT": "5",
            "NOTIFICATIONS_EMAIL_BACKOFF_SECONDS": "2",
        }
    )
    order_id = place(customer_client, order_body(("MUG-LOGO", 1)))["id"]

    failed = wait_until(
        lambda: Notification.objects.filter(
            order_id=order_id, kind="order_confirmation", channel="email", status="failed"
        ).first(),
        timeout=60,
        message="the confirmation email to fail",
    )
    assert "Connection refused" in failed.last_error  # type: ignore[attr-defined]

    with SmtpServer(port) as relay:
        wait_for_status(customer_client, order_id, {"fulfilled"})
        wait_until(
            lambda: [e.status for e in emails(order_id)] == ["sent", "sent"],
            timeout=60,
            message="both emails to be sent",
        )
        wait_settled()

        confirmation, shipped = emails(order_id)
        tries = list(EmailAttempt.objects.filter(notification=confirmation))
        assert tries[0].outcome == "failed" and "Connection refused" in tries[0].error
        assert [t.outcome for t in tries[1:]] == ["failed"] * (len(tries) - 2) + ["sent"]
        assert confirmation.attempts == len(tries) >= 2
        assert shipped.kind == "order_fulfilled"
        received = {m["Subject"]: m for m in relay.messages}
        assert set(received) == {
            f"Order {order_id} confirmed",
            f"Your order {order_id} is on its way",
        }
        assert len(relay.messages) == 2
        for message in relay.messages:
            assert message["To"] == customer.email
            assert message.get_body(("plain",)).get_content().strip()
            assert "</html>" in message.get_body(("html",)).get_content()

        # The order's events delivered again to the subscriber that told the customer.
        fulfilled = Event.objects.get(type="order.fulfilled", aggregate_id=str(order_id))
        event_replay(subscriber=SUBSCRIBER, aggregate_id=str(order_id))
        wait_until(
            lambda: Delivery.objects.filter(
                event=fulfilled, subscriber=SUBSCRIBER, status="succeeded", total_attempts=2
            ).exists(),
            timeout=60,
            message="the replayed order.fulfilled to be handled again",
        )
        wait_settled()

        assert Notification.objects.filter(order_id=order_id).count() == 4  # 2 kinds x 2 channels
        assert len(relay.messages) == 2
