"""Email with a record: each email is a notification row that says what became of it.

The row is written in the caller's transaction, queued (``notifications.send_email``)
after commit, and sent by the worker outside any transaction. Each try is claimed first
(status ``sending``, a lease until ``next_attempt_at``), so two copies of the task never
send at once; its end is recorded only while the try still owns the row. A failed try
is retried with exponential backoff and jitter until ``MAX_ATTEMPTS``, then given up; a
mail server's permanent refusal (5xx) is given up at once. An email whose message was
lost is sent again by the watchdog. Delivery is at least once: a worker that dies after
the server took the message, before recording it, sends it again.
"""

import smtplib
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone

from events import dispatch
from events.retry import backoff_delay
from project.errors import Conflict

from ..conf import notifications_settings
from ..models import EmailAttempt, Notification

# Task names (notifications/email_tasks.py declares the tasks under these names).
SEND_EMAIL = "notifications.send_email"
RESEND_STALLED_EMAILS = "notifications.resend_stalled_emails"

CHANNEL_OFF = "The recipient switched this channel off for this kind of message."
NO_ADDRESS = "The recipient has no email address."
GONE = "gone"  # the outcome for an email deleted since it was queued
NOT_RESENDABLE = "Only a failed or given-up email can be sent again."

Status = Notification.Status
RETRYABLE = (Status.QUEUED, Status.FAILED)


@dataclass(frozen=True)
class EmailOutcome:
    """What one run of the task came to: the row's status, and when to try again."""

    status: str
    retry_in: float | None = None


def email_fields(*, address: str, enabled: bool) -> dict:
    """The delivery fields of a new email row: queued, or skipped and why."""
    if not enabled:
        return {"status": Status.SKIPPED, "last_error": CHANNEL_OFF}
    if not address:
        return {"status": Status.SKIPPED, "last_error": NO_ADDRESS}
    return {"status": Status.QUEUED, "to_address": address, "next_attempt_at": timezone.now()}


def email_queue_on_commit(*, notification: Notification) -> None:
    """Send the email's task once the caller's transaction commits."""
    dispatch.send_on_commit(SEND_EMAIL, notification_id=str(notification.pk))


def _claim(notification_id: int, task_id: str) -> Notification | None:
    """Take the email for one try, or None if it is done or another try holds it."""
    now = timezone.now()
    with transaction.atomic():
        email = Notification.objects.select_for_update().filter(pk=notification_id).first()
        if email is None:  # its recipient was deleted since
            return None
        lease_over = email.next_attempt_at is None or email.next_attempt_at <= now
        if email.status not in RETRYABLE and not (email.status == Status.SENDING and lease_over):
            return None
        email.status = Status.SENDING
        email.attempts += 1
        email.task_id = task_id
        email.next_attempt_at = now + timedelta(seconds=notifications_settings.EMAIL_STALL_SECONDS)
        email.save(update_fields=["status", "attempts", "task_id", "next_attempt_at"])
        return email


def _send(email: Notification) -> None:
    message = EmailMultiAlternatives(
        email.subject, email.body, settings.DEFAULT_FROM_EMAIL, [email.to_address]
    )
    if email.html_body:
        message.attach_alternative(email.html_body, "text/html")
    message.send(fail_silently=False)


def _is_permanent(exc: Exception) -> bool:
    """A refusal that a retry will not heal: the server's 5xx answer, a refused recipient."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return True
    return isinstance(exc, smtplib.SMTPResponseException) and 500 <= exc.smtp_code < 600


def _after_failure(email: Notification, exc: Exception) -> float | None:
    """Mark the failed try: retrying after a delay (returned), or given up (None)."""
    email.last_error = f"{type(exc).__name__}: {exc}"
    if _is_permanent(exc) or email.attempts >= notifications_settings.EMAIL_MAX_ATTEMPTS:
        email.status, email.next_attempt_at = Status.GIVEN_UP, None
        return None
    delay = backoff_delay(
        email.attempts,
        base=notifications_settings.EMAIL_BACKOFF_SECONDS,
        cap=notifications_settings.EMAIL_MAX_BACKOFF_SECONDS,
    )
    email.status = Status.FAILED
    email.next_attempt_at = timezone.now() + timedelta(seconds=delay)
    return delay


@transaction.atomic
def _record(claimed: Notification, started_at, seconds: float, exc: Exception | None):  # type: ignore[no-untyped-def]
    """Log the try; update the row only if this try still owns it."""
    EmailAttempt.objects.create(
        notification=claimed,
        number=claimed.attempts,
        task_id=claimed.task_id,
        started_at=started_at,
        duration=timedelta(seconds=seconds),
        outcome=EmailAttempt.Outcome.FAILED if exc else EmailAttempt.Outcome.SENT,
        error=f"{type(exc).__name__}: {exc}" if exc else "",
    )
    email = Notification.objects.select_for_update().get(pk=claimed.pk)
    owned = (email.status, email.attempts, email.task_id) == (
        Status.SENDING,
        claimed.attempts,
        claimed.task_id,
    )
    if not owned:
        return EmailOutcome(email.status)
    retry_in = None
    if exc is None:
        email.status, email.sent_at, email.next_attempt_at = Status.SENT, timezone.now(), None
    else:
        retry_in = _after_failure(email, exc)
    email.save(update_fields=["status", "sent_at", "next_attempt_at", "last_error"])
    return EmailOutcome(email.status, retry_in)


def email_deliver(*, notification_id: int, task_id: str = "") -> EmailOutcome:
    """One try to send a queued or failed email, recorded on its row and as an attempt."""
    claimed = _claim(notification_id, task_id)
    if claimed is None:
        status = Notification.objects.filter(pk=notification_id).values_list("status", flat=True)
        return EmailOutcome(status.first() or GONE)
    started_at, clock = timezone.now(), time.monotonic()
    try:  # outside any transaction: the mail server may take seconds
        _send(claimed)
    except Exception as exc:  # every failure is recorded; _after_failure decides on retries
        return _record(claimed, started_at, time.monotonic() - clock, exc)
    return _record(claimed, started_at, time.monotonic() - clock, None)


@transaction.atomic
def email_resend(*, notification: Notification) -> Notification:
    """An operator sends a failed or given-up email again now (one more try).

    Raises ``Conflict`` for any other email, and for an in-app message.
    """
    email = Notification.objects.select_for_update().get(pk=notification.pk)
    if email.channel != Notification.Channel.EMAIL or email.status not in (
        Status.FAILED,
        Status.GIVEN_UP,
    ):
        raise Conflict(NOT_RESENDABLE)
    email.status, email.next_attempt_at = Status.QUEUED, timezone.now()
    email.save(update_fields=["status", "next_attempt_at"])
    email_queue_on_commit(notification=email)
    return email


@transaction.atomic
def email_resend_stalled() -> int:
    """Send again emails whose message was lost: queued, retrying or sending, and late.

    Each one sent counts as fresh, so a backlog in the broker is not sent on every pass.
    """
    now = timezone.now()
    late = now - timedelta(seconds=notifications_settings.EMAIL_STALL_SECONDS)
    stalled = list(
        Notification.objects.select_for_update(skip_locked=True)
        .filter(status__in=[*RETRYABLE, Status.SENDING], next_attempt_at__lte=late)
        .values_list("pk", flat=True)[:500]
    )
    Notification.objects.filter(pk__in=stalled).update(next_attempt_at=now)
    for pk in stalled:
        dispatch.send_on_commit(SEND_EMAIL, notification_id=str(pk))
    return len(stalled)
