"""Celery tasks of email: thin adapters around ``services.email``.

Imported by the app's ``ready()``, so every process that sends them by name knows them.
"""

from celery import shared_task

from events.retry import countdown

from .services.email import (
    RESEND_STALLED_EMAILS,
    SEND_EMAIL,
    email_deliver,
    email_resend_stalled,
)


# The notification row and its attempts are the record: no result rows are written.
# Retries are the service's call (NOTIFICATIONS["EMAIL_MAX_ATTEMPTS"]), hence no max here.
@shared_task(name=SEND_EMAIL, bind=True, acks_late=True, max_retries=None, ignore_result=True)
def send_email(self, notification_id: str, **trace: str) -> str:  # type: ignore[no-untyped-def]
    """One try to send an email; a failure is retried with backoff and jitter."""
    outcome = email_deliver(notification_id=int(notification_id), task_id=self.request.id or "")
    if outcome.retry_in is not None:
        raise self.retry(countdown=countdown(outcome.retry_in))
    return outcome.status


@shared_task(name=RESEND_STALLED_EMAILS, ignore_result=True)
def resend_stalled_emails() -> int:
    """Send again emails whose message was lost (broker down, worker killed)."""
    return email_resend_stalled()
