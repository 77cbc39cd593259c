"""Fixtures of the notifications tests: the mail outbox, and emails sent as a worker would."""

from collections.abc import Callable, Iterator

import pytest
from celery.signals import task_postrun
from django.core import mail

from notifications.services import email_deliver
from notifications.services.email import SEND_EMAIL
from project.celery import release_stale_connections


@pytest.fixture
def outbox(settings) -> list:  # type: ignore[no-untyped-def]
    """Django's in-memory outbox: what the email backend was handed, in order."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    return mail.outbox


@pytest.fixture
def queued_emails(broker) -> list[dict]:  # type: ignore[no-untyped-def]
    """The ``notifications.send_email`` messages sent (after commit), a live list."""
    return broker.of(SEND_EMAIL)


@pytest.fixture
def send_emails(broker, outbox) -> Callable[[], list]:  # type: ignore[no-untyped-def]
    """Each queued email is tried as a worker would, retries at once; returns the outbox."""

    def run(task_name: str, kwargs: dict[str, str]) -> None:
        if task_name == SEND_EMAIL:
            notification_id = int(kwargs["notification_id"])
            while email_deliver(notification_id=notification_id).retry_in is not None:
                pass

    broker.after_send = run
    return lambda: outbox


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Run tasks in this process (``apply``) inside the test's transaction.

    A worker closes stale connections after each task; here that would close the test's.
    """
    task_postrun.disconnect(release_stale_connections)
    yield
    task_postrun.connect(release_stale_connections)
