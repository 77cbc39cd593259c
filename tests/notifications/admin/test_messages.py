"""The notifications' admin: emails by status, their tries, and sending a failed one again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from events.admin import admin_url
from notifications.models import EmailAttempt, Notification
from notifications.services import notification_send
from notifications.services.email import NOT_RESENDABLE
from tests.helpers.admin import act, clerk_client, follow_filter, listed, offered, shown

pytestmark = pytest.mark.django_db

Status = Notification.Status


def email(user, order_id: int, status: str) -> Notification:  # type: ignore[no-untyped-def]
    notification = notification_send(
        recipient=user,
        kind=Notification.Kind.ORDER_CANCELLED,
        context={"order_id": order_id},
        channel=Notification.Channel.EMAIL,
        order_id=order_id,
    )
    Notification.objects.filter(pk=notification.pk).update(status=status)
    notification.refresh_from_db()
    return notification


@pytest.mark.parametrize(
    ("choice", "status"),
    [("Failed, retrying", Status.FAILED), ("Queued", Status.QUEUED), ("Given up", Status.GIVEN_UP)],
)
def test_emails_are_filtered_by_status(superuser_client, customer, choice, status):
    rows = {s: email(customer, n, s) for n, s in enumerate(Status)}

    response = follow_filter(superuser_client, Notification, "status", choice)

    assert listed(response) == {rows[status].pk}


def test_an_email_page_shows_each_try_with_its_error(superuser_client, customer):
    failed = email(customer, 1, Status.FAILED)
    EmailAttempt.objects.create(
        notification=failed,
        number=1,
        task_id="t-1",
        started_at=timezone.now(),
        duration=timedelta(milliseconds=40),
        outcome=EmailAttempt.Outcome.FAILED,
        error="ConnectionRefusedError: [Errno 111] Connection refused",
    )

    page = superuser_client.get(admin_url(Notification, "change", failed.pk)).content.decode()

    assert "[Errno 111] Connection refused" in page
    assert "40 ms" in page


def test_sending_failed_emails_again_queues_them_and_reports_the_others(
    superuser_client, customer, broker, django_capture_on_commit_callbacks
):
    failed, given_up, sent = (
        email(customer, n, s) for n, s in enumerate([Status.FAILED, Status.GIVEN_UP, Status.SENT])
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = act(superuser_client, Notification, "send_again", [failed, given_up, sent])

    assert shown(response) == [
        ("success", "Queued 2 email(s) to be sent again."),
        ("error", f"1 failed: {sent}: {NOT_RESENDABLE}"),
    ]
    assert [Notification.objects.get(pk=e.pk).status for e in (failed, given_up, sent)] == [
        "queued",
        "queued",
        "sent",
    ]
    queued = {int(m["notification_id"]) for m in broker.of("notifications.send_email")}
    assert queued == {failed.pk, given_up.pk}


def test_sending_again_needs_the_permission_to_operate(db):
    looker = clerk_client("view_notification")

    response = looker.get(admin_url(Notification, "changelist"))

    assert response.status_code == 200
    assert "send_again" not in offered(response)
