"""Fixtures of the notifications tests: the mail outbox, emails sent as a worker would, a
webhook receiver and the seams webhooks offer."""

from collections.abc import Callable, Iterator

import pytest
from celery.signals import task_postrun
from django.core import mail

from notifications.models import WebhookSubscription
from notifications.services import email_deliver
from notifications.services.email import SEND_EMAIL
from notifications.services.webhook_targets import set_resolver
from project.celery import release_stale_connections
from tests.helpers.webhooks import Receiver, static_resolver


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


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on 127.0.0.1 that verifies every request with standardwebhooks."""
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def resolve() -> Iterator[Callable[[dict[str, str]], None]]:
    """Make host names resolve as the test says (in this process), for the SSRF guard."""
    previous = set_resolver(None)

    def use(hosts: dict[str, str]) -> None:
        set_resolver(static_resolver(hosts))

    yield use
    set_resolver(previous)


@pytest.fixture
def private_targets(settings) -> None:  # type: ignore[no-untyped-def]
    """Webhooks may go to 127.0.0.1, as under `make run` (this process only)."""
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "WEBHOOK_ALLOW_PRIVATE_TARGETS": True}


@pytest.fixture
def webhook_settings(settings, private_targets) -> dict:  # type: ignore[no-untyped-def]
    """Three attempts a few milliseconds apart, no jitter, disabled after two given up."""
    settings.NOTIFICATIONS = {
        **settings.NOTIFICATIONS,
        "WEBHOOK_RETRY_SCHEDULE": [0.01, 0.02],
        "WEBHOOK_RETRY_JITTER": 0,
        "WEBHOOK_READ_TIMEOUT_SECONDS": 0.5,
        "WEBHOOK_DISABLE_AFTER_FAILED_DELIVERIES": 2,
    }
    return settings.NOTIFICATIONS


@pytest.fixture
def subscribe(db, receiver) -> Callable[..., WebhookSubscription]:  # type: ignore[no-untyped-def]
    """A subscription to the receiver (its secret handed to the receiver)."""

    def make(**fields) -> WebhookSubscription:  # type: ignore[no-untyped-def]
        sub = WebhookSubscription.objects.create(url=receiver.url(), **fields)
        receiver.trust(sub.secret)
        return sub

    return make
