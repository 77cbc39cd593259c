"""Real worker processes for the webhook tests, with webhook settings of their own.

Each test starts the workers it needs (their environment differs from test to test: the
SSRF setting, the hosts they resolve), and lets them settle before they stop.
"""

from collections.abc import Callable, Iterator

import pytest
from django.db import connections
from django.db.models import Q

from notifications.models import WebhookDelivery
from tests.integration.helpers import in_flight
from tests.processes import Worker, clear_broker, wait_until

# Fast retries (each Celery countdown still takes a second at least), short timeouts,
# disabled after two deliveries given up; private targets allowed (the receiver is local).
WEBHOOK_ENV = {
    "WEBHOOKS_ALLOW_PRIVATE_TARGETS": "true",
    "WEBHOOKS_RETRY_SCHEDULE": "0.2,0.2",
    "WEBHOOKS_READ_TIMEOUT_SECONDS": "1",
    "WEBHOOKS_DISABLE_AFTER_FAILED_DELIVERIES": "2",
}


def webhooks_moving() -> list[str]:
    """Webhook deliveries still on their way: queued, sending, or a retry coming soon."""
    moving = WebhookDelivery.objects.filter(
        Q(status__in=["pending", "sending"]) | Q(status="failed", queued_at__isnull=False)
    )
    return [str(d) for d in moving]


def settled() -> bool:
    return not in_flight() and not webhooks_moving()


@pytest.fixture
def webhook_workers(django_db_setup, django_db_blocker) -> Iterator[Callable[..., list[Worker]]]:  # type: ignore[no-untyped-def]
    """Start workers on an empty queue; let them settle and stop them after the test."""
    started: list[Worker] = []

    def start(count: int = 1, *, concurrency: int = 2, **env: str) -> list[Worker]:
        with django_db_blocker.unblock():
            clear_broker()
            workers = [
                Worker(concurrency=concurrency, env={**WEBHOOK_ENV, **env}).launch()
                for _ in range(count)
            ]
            started.extend(workers)
            for worker in workers:
                worker.wait_ready()
        return workers

    yield start
    with django_db_blocker.unblock():
        if any(w.process and w.process.poll() is None for w in started):
            wait_until(settled, timeout=60, message="the webhook deliveries to settle")
        for worker in started:
            worker.stop()
        connections.close_all()
