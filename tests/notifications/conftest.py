"""Fixtures of the notifications tests: a webhook receiver and the seams webhooks offer."""

from collections.abc import Callable, Iterator

import pytest

from notifications.models import WebhookSubscription
from notifications.services.webhook_targets import set_resolver
from tests.helpers.webhooks import Receiver, static_resolver


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
