"""The email task, run in this process: it retries as the service says, then stops."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.email_tasks import resend_stalled_emails, send_email
from notifications.models import EmailAttempt, Notification
from notifications.services import notification_send
from tests.smtp import free_port

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]


@pytest.fixture
def email(customer) -> Notification:  # type: ignore[no-untyped-def]
    return notification_send(
        recipient=customer,
        kind=Notification.Kind.ORDER_CANCELLED,
        context={"order_id": 4},
        channel=Notification.Channel.EMAIL,
        order_id=4,
    )


def test_the_task_sends_the_email_and_says_so(email, outbox):
    result = send_email.apply(kwargs={"notification_id": str(email.pk)})

    assert result.get() == "sent"
    assert [m.subject for m in outbox] == ["Your order 4 was cancelled"]
    email.refresh_from_db()
    assert email.task_id == result.id


def test_the_task_retries_a_failing_email_until_the_setting_says_stop(settings, email):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "EMAIL_MAX_ATTEMPTS": 3}
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = (
        "127.0.0.1",
        free_port(),
        False,
    )

    send_email.apply(kwargs={"notification_id": str(email.pk)})  # eager: retries run at once

    email.refresh_from_db()
    assert (email.status, email.attempts) == ("given_up", 3)
    errors = EmailAttempt.objects.filter(notification=email).values_list("error", flat=True)
    assert len(errors) == 3
    assert all("Connection refused" in error for error in errors)


def test_the_watchdog_task_sends_again_a_lost_email_and_says_how_many(
    email, broker, django_capture_on_commit_callbacks
):
    long_ago = timezone.now() - timedelta(hours=1)
    Notification.objects.filter(pk=email.pk).update(next_attempt_at=long_ago)

    with django_capture_on_commit_callbacks(execute=True):
        result = resend_stalled_emails.apply()

    assert result.get() == 1
    assert broker.of("notifications.send_email") == [{"notification_id": str(email.pk)}]
