"""Sending a delivery in this process to a real receiver: attempts, retries, giving up,
disabling a failing subscription, ordered subscriptions, and the beat task's pass."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import Notification, WebhookDelivery
from notifications.services import webhook_delivery_send, webhook_send_due
from notifications.services.webhook_sending import (
    DELIVER_WEBHOOK,
    DISABLED_AFTER_FAILURES,
    GIVEN_UP_DISABLED,
    LOST,
)
from tests.factories import make_user
from tests.helpers.webhook_rows import emit, fan_out

pytestmark = pytest.mark.django_db

Status = WebhookDelivery.Status


def send(delivery: WebhookDelivery) -> WebhookDelivery:
    """Make the delivery's next attempt as soon as it is due."""
    delivery.refresh_from_db()
    if delivery.next_attempt_at and delivery.next_attempt_at > timezone.now():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    webhook_delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    return delivery


def test_a_2xx_answer_succeeds_with_one_attempt_logged(webhook_settings, subscribe, receiver):
    sub = subscribe()
    receiver.answer = lambda request: (202, 0)
    [delivery] = fan_out(event := emit())

    delivery = send(delivery)

    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        Status.SUCCEEDED,
        1,
        202,
    )
    assert delivery.delivered_at is not None
    [request] = receiver.requests()
    assert request.verified, request.error
    assert request.webhook_id == str(event.id)
    assert request.envelope["id"] == str(event.id)
    assert request.headers["user-agent"] == "fulfillment-webhooks/1.0"
    [attempt] = delivery.attempt_log.all()
    assert (attempt.number, attempt.status_code, attempt.error) == (1, 202, "")
    assert attempt.duration_ms is not None
    assert '"received"' in attempt.response_excerpt
    sub.refresh_from_db()
    assert (sub.consecutive_failures, sub.failing_since) == (0, None)


def test_a_failed_attempt_is_retried_per_the_schedule_then_given_up(
    webhook_settings, subscribe, receiver
):
    subscribe()
    receiver.answer = lambda request: (500, 0)
    [delivery] = fan_out(emit())

    first = send(delivery)
    assert (first.status, first.attempts, first.last_status_code) == (Status.FAILED, 1, 500)
    assert first.last_error == "The receiver answered 500."
    assert first.next_attempt_at is not None
    assert first.queued_at == first.next_attempt_at  # soon: a countdown message brings it
    assert send(first).status == Status.FAILED
    last = send(first)

    assert (last.status, last.attempts, last.next_attempt_at) == (Status.GIVEN_UP, 3, None)
    assert [a.status_code for a in last.attempt_log.all()] == [500, 500, 500]
    assert len({r.webhook_id for r in receiver.requests()}) == 1
    last.subscription.refresh_from_db()
    assert last.subscription.consecutive_failures == 1
    assert last.subscription.failing_since is not None


def test_a_retry_due_later_than_the_countdown_limit_waits_for_the_beat_task(
    settings, webhook_settings, subscribe, receiver, broker
):
    settings.NOTIFICATIONS = {**webhook_settings, "WEBHOOK_RETRY_SCHEDULE": [3600]}
    subscribe()
    receiver.answer = lambda request: (503, 0)
    [delivery] = fan_out(emit())

    outcome = webhook_delivery_send(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert outcome.retry_in is None
    assert delivery.queued_at is None
    assert delivery.next_attempt_at > timezone.now() + timedelta(minutes=59)
    assert webhook_send_due() == 0  # not due yet
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert webhook_send_due() == 1
    assert webhook_send_due() == 0  # queued now: not sent again on the next pass
    assert broker.of(DELIVER_WEBHOOK) == [{"delivery_id": str(delivery.pk)}] * 1


def test_a_timeout_is_a_failed_attempt(webhook_settings, subscribe, receiver):
    subscribe()
    receiver.answer = lambda request: (200, 1.5)  # past the 0.5 s read timeout
    [delivery] = fan_out(emit())

    delivery = send(delivery)

    assert delivery.status == Status.FAILED
    assert delivery.last_status_code is None
    assert delivery.last_error.startswith("Timed out: ReadTimeout")


def test_a_success_clears_the_failure_record(webhook_settings, subscribe, receiver):
    sub = subscribe()
    answers = iter([500, 200])
    receiver.answer = lambda request: (next(answers), 0)
    [delivery] = fan_out(emit())
    send(delivery)
    sub.refresh_from_db()
    assert sub.failing_since is not None

    assert send(delivery).status == Status.SUCCEEDED

    sub.refresh_from_db()
    assert (sub.consecutive_failures, sub.failing_since) == (0, None)


def test_deliveries_given_up_in_a_row_disable_the_subscription_and_tell_the_staff(
    webhook_settings, subscribe, receiver
):
    make_user("off-duty", staff=True)
    admin = make_user("admin", staff=True)
    retired = make_user("retired", staff=True)
    retired.is_active = False
    retired.save()
    customer = make_user("alice")
    sub = subscribe(description="ERP")
    receiver.answer = lambda request: (500, 0)
    first, second, third = (fan_out(emit("a", n))[0] for n in (1, 2, 3))

    for _ in range(3):
        send(first)
    for _ in range(3):
        send(second)

    sub.refresh_from_db()
    assert not sub.is_active
    assert sub.disabled_reason == DISABLED_AFTER_FAILURES.format(count=2)
    third.refresh_from_db()
    assert (third.status, third.last_error) == (Status.GIVEN_UP, GIVEN_UP_DISABLED)
    alerts = Notification.objects.filter(kind=Notification.Kind.WEBHOOK_DISABLED)
    assert {n.user.username for n in alerts} == {"admin", "off-duty"}
    assert not alerts.filter(user__in=[retired, customer]).exists()
    note = alerts.get(user=admin, channel=Notification.Channel.IN_APP)
    assert note.subject == f"Webhook subscription {sub.pk} was disabled"
    assert f"({sub.url}) was disabled: 2 deliveries in a row were given up." in note.body
    email = alerts.get(user=admin, channel=Notification.Channel.EMAIL)
    assert (email.subject, email.body) == (note.subject, note.body)
    assert (email.status, email.to_address) == (Notification.Status.QUEUED, admin.email)


def test_failing_for_longer_than_the_setting_disables_the_subscription(
    settings, webhook_settings, subscribe, receiver
):
    settings.NOTIFICATIONS = {**webhook_settings, "WEBHOOK_DISABLE_AFTER_FAILING_SECONDS": 3600}
    sub = subscribe()
    receiver.answer = lambda request: (500, 0)
    [delivery] = fan_out(emit())
    send(delivery)
    sub.refresh_from_db()
    assert sub.is_active
    sub.failing_since = timezone.now() - timedelta(hours=2)
    sub.save()

    delivery = send(delivery)

    sub.refresh_from_db()
    assert not sub.is_active
    assert sub.disabled_reason.startswith("its deliveries have failed since")
    assert delivery.status == Status.GIVEN_UP


def test_a_send_refused_by_the_ssrf_guard_fails_without_a_request(
    settings, webhook_settings, subscribe, receiver, resolve
):
    resolve({"hooks.example.com": "127.0.0.1"})
    sub = subscribe()
    sub.url = receiver.url(host="hooks.example.com")
    sub.save()
    settings.NOTIFICATIONS = {**webhook_settings, "WEBHOOK_ALLOW_PRIVATE_TARGETS": False}
    [delivery] = fan_out(emit())

    delivery = send(delivery)

    assert delivery.status == Status.FAILED
    assert delivery.last_error == (
        "Refused before sending: The host hooks.example.com resolves to 127.0.0.1, a loopback "
        "address: webhooks go to public addresses only."
    )
    assert receiver.requests() == []


def test_a_public_looking_host_goes_to_the_address_that_was_checked(
    webhook_settings, subscribe, receiver, resolve
):
    resolve({"hooks.example.com": "127.0.0.1"})
    sub = subscribe()
    sub.url = receiver.url(host="hooks.example.com")
    sub.save()
    [delivery] = fan_out(emit())

    assert send(delivery).status == Status.SUCCEEDED
    assert receiver.requests()[0].headers["host"] == f"hooks.example.com:{receiver.port}"


def test_a_copy_of_the_message_arriving_while_another_sends_does_nothing(
    webhook_settings, subscribe, receiver
):
    subscribe()
    [delivery] = fan_out(emit())
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=Status.SENDING)

    assert webhook_delivery_send(delivery_id=delivery.pk).status == "skipped"
    assert receiver.requests() == []


def test_a_delivery_whose_worker_died_mid_attempt_is_sent_again_after_the_stall_period(
    webhook_settings, subscribe, receiver, broker
):
    subscribe()
    [delivery] = fan_out(emit())
    webhook_delivery_send(delivery_id=delivery.pk)
    # The first attempt stopped half-way: no end recorded, the delivery still sending.
    delivery.attempt_log.update(duration_ms=None, status_code=None)
    long_ago = timezone.now() - timedelta(hours=1)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=Status.SENDING, updated_at=long_ago
    )

    assert webhook_send_due() == 1
    delivery = send(delivery)

    assert delivery.status == Status.SUCCEEDED
    assert [(a.number, a.error) for a in delivery.attempt_log.all()] == [(1, LOST), (2, "")]
    assert len(receiver.requests()) == 2
