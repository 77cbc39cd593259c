"""Email with a record: queued after commit, each try logged, retried, given up, sent again."""

import uuid
from datetime import timedelta

import pytest
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from notifications.models import EmailAttempt, Notification, NotificationPreference
from notifications.services import (
    email_deliver,
    email_resend,
    email_resend_stalled,
    notification_send,
)
from notifications.services.email import CHANNEL_OFF, NO_ADDRESS, NOT_RESENDABLE
from project.errors import Conflict
from tests.smtp import SmtpServer, free_port

pytestmark = pytest.mark.django_db

Kind = Notification.Kind
Status = Notification.Status


def email_to(user, *, kind: str = Kind.ORDER_CANCELLED, order_id: int = 4) -> Notification:  # type: ignore[no-untyped-def]
    return notification_send(
        recipient=user,
        kind=kind,
        context={"order_id": order_id},
        channel=Notification.Channel.EMAIL,
        order_id=order_id,
    )


@pytest.fixture
def smtp_at(settings):  # type: ignore[no-untyped-def]
    """Point Django's SMTP backend at 127.0.0.1:``port``."""

    def point(port: int) -> None:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_TIMEOUT = 5

    return point


def tries(email: Notification) -> list[tuple[int, str, str]]:
    return [
        (a.number, a.outcome, a.error.split(":")[0])
        for a in EmailAttempt.objects.filter(notification=email)
    ]


def test_an_email_is_recorded_in_the_callers_transaction_and_queued_after_commit(
    customer, queued_emails, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        email = email_to(customer)
        assert queued_emails == []  # nothing leaves before the commit

    for callback in callbacks:
        callback()
    assert (email.status, email.to_address, email.attempts) == ("queued", customer.email, 0)
    assert queued_emails == [{"notification_id": str(email.pk)}]


def test_the_email_sent_is_the_one_recorded_in_text_and_html(
    settings, customer, send_emails, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        email = email_to(customer, kind=Kind.ORDER_FAILED)

    [sent] = send_emails()
    assert isinstance(sent, EmailMultiAlternatives)
    assert (sent.subject, sent.body, sent.to, sent.from_email) == (
        "Your order 4 could not be completed",
        "Order 4 failed: . You have not been charged.",
        [customer.email],
        settings.DEFAULT_FROM_EMAIL,
    )
    [(html, mimetype)] = sent.alternatives
    assert mimetype == "text/html"
    assert "Your order 4 could not be completed</h1>" in html
    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error) == ("sent", 1, "")
    assert email.sent_at is not None and email.next_attempt_at is None
    assert tries(email) == [(1, "sent", "")]


def test_an_smtp_failure_shows_on_the_record_and_the_next_try_sends_it(customer, smtp_at, outbox):
    email = email_to(customer)
    smtp_at(free_port())  # nothing listens there

    failed = email_deliver(notification_id=email.pk, task_id="try-1")

    email.refresh_from_db()
    assert (failed.status, email.status, email.attempts) == ("failed", "failed", 1)
    assert "Connection refused" in email.last_error
    assert 15 <= failed.retry_in <= 30  # the first backoff: 30 s with jitter over its upper half
    assert email.next_attempt_at > timezone.now()
    assert tries(email) == [(1, "failed", "ConnectionRefusedError")]

    with SmtpServer() as relay:
        smtp_at(relay.port)
        sent = email_deliver(notification_id=email.pk, task_id="try-2")

    email.refresh_from_db()
    assert (sent.status, sent.retry_in, email.status, email.attempts) == ("sent", None, "sent", 2)
    assert tries(email) == [(1, "failed", "ConnectionRefusedError"), (2, "sent", "")]
    assert [(m["Subject"], m["To"]) for m in relay.messages] == [
        ("Your order 4 was cancelled", customer.email)
    ]
    assert "Connection refused" in email.last_error  # the latest failure stays readable


def test_an_email_is_given_up_after_the_last_attempt(settings, customer, smtp_at):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "EMAIL_MAX_ATTEMPTS": 2}
    email = email_to(customer)
    smtp_at(free_port())

    first = email_deliver(notification_id=email.pk)
    second = email_deliver(notification_id=email.pk)
    third = email_deliver(notification_id=email.pk)

    assert (first.status, second.status, third.status) == ("failed", "given_up", "given_up")
    assert second.retry_in is None
    email.refresh_from_db()
    assert (email.attempts, email.next_attempt_at) == (2, None)
    assert len(tries(email)) == 2


def test_a_mailbox_the_server_refuses_is_given_up_at_once(customer, smtp_at):
    email = email_to(customer)

    with SmtpServer(refuse_recipients=True) as relay:
        smtp_at(relay.port)
        outcome = email_deliver(notification_id=email.pk)

    email.refresh_from_db()
    assert (outcome.status, outcome.retry_in, email.attempts) == ("given_up", None, 1)
    assert email.last_error.startswith("SMTPRecipientsRefused")
    assert relay.messages == []


def test_a_copy_of_the_task_leaves_an_email_another_try_holds_alone(customer, outbox):
    email = email_to(customer)
    lease = timezone.now() + timedelta(minutes=5)
    Notification.objects.filter(pk=email.pk).update(
        status=Status.SENDING, attempts=1, task_id="other", next_attempt_at=lease
    )

    assert email_deliver(notification_id=email.pk, task_id="copy").status == "sending"
    assert outbox == []

    Notification.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())  # lost
    assert email_deliver(notification_id=email.pk, task_id="copy").status == "sent"
    assert len(outbox) == 1


def test_a_sent_email_is_not_sent_again_by_a_second_copy(customer, outbox):
    email = email_to(customer)

    email_deliver(notification_id=email.pk)
    again = email_deliver(notification_id=email.pk)

    assert again.status == "sent"
    assert len(outbox) == 1


def test_a_switched_off_email_is_recorded_as_skipped_and_never_queued(
    customer, queued_emails, django_capture_on_commit_callbacks
):
    NotificationPreference.objects.create(
        user=customer, kind=Kind.ORDER_CANCELLED, channel="email", enabled=False
    )

    with django_capture_on_commit_callbacks(execute=True):
        email = email_to(customer)

    assert (email.status, email.last_error, email.to_address) == ("skipped", CHANNEL_OFF, "")
    assert queued_emails == []


def test_a_recipient_without_an_address_gets_a_skipped_email(
    customer, queued_emails, django_capture_on_commit_callbacks
):
    customer.email = ""
    customer.save()

    with django_capture_on_commit_callbacks(execute=True):
        email = email_to(customer)

    assert (email.status, email.last_error) == ("skipped", NO_ADDRESS)
    assert queued_emails == []


def test_an_operator_sends_a_given_up_email_again(
    customer, queued_emails, django_capture_on_commit_callbacks
):
    email = email_to(customer)
    Notification.objects.filter(pk=email.pk).update(status=Status.GIVEN_UP, attempts=8)

    with django_capture_on_commit_callbacks(execute=True):
        email_resend(notification=email)

    email.refresh_from_db()
    assert email.status == "queued"
    assert queued_emails[-1] == {"notification_id": str(email.pk)}


@pytest.mark.parametrize("status", ["queued", "sending", "sent", "skipped"])
def test_only_a_failed_or_given_up_email_can_be_sent_again(customer, status):
    email = email_to(customer)
    Notification.objects.filter(pk=email.pk).update(status=status)

    with pytest.raises(Conflict, match=NOT_RESENDABLE):
        email_resend(notification=email)


def test_an_in_app_message_cannot_be_sent_again_as_an_email(customer):
    message = notification_send(recipient=customer, kind=Kind.ORDER_CANCELLED, context={})
    Notification.objects.filter(pk=message.pk).update(status=Status.FAILED)

    with pytest.raises(Conflict):
        email_resend(notification=message)


def test_the_watchdog_sends_again_emails_whose_message_was_lost_once_per_stall(
    settings, customer, queued_emails, django_capture_on_commit_callbacks
):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "EMAIL_STALL_SECONDS": 60}
    long_ago = timezone.now() - timedelta(seconds=61)
    lost = {status: email_to(customer, order_id=n) for n, status in enumerate(Status)}
    for status, email in lost.items():
        Notification.objects.filter(pk=email.pk).update(status=status, next_attempt_at=long_ago)
    recent = email_to(customer, order_id=99)

    with django_capture_on_commit_callbacks(execute=True):
        first = email_resend_stalled()
    with django_capture_on_commit_callbacks(execute=True):
        second = email_resend_stalled()

    resent = {int(message["notification_id"]) for message in queued_emails}
    assert resent == {lost[s].pk for s in (Status.QUEUED, Status.FAILED, Status.SENDING)}
    assert recent.pk not in resent
    assert (first, second) == (3, 0)


def test_an_event_sends_one_email_per_recipient(customer, other_customer):
    event_id = uuid.uuid4()

    def send(user) -> Notification:  # type: ignore[no-untyped-def]
        return notification_send(
            recipient=user,
            kind=Kind.ORDER_CANCELLED,
            context={},
            channel=Notification.Channel.EMAIL,
            event_id=event_id,
        )

    mine, theirs = send(customer), send(other_customer)

    assert mine != theirs
    assert (send(customer), send(other_customer)) == (mine, theirs)
