"""Celery on Amazon SQS (moto's server): the same settings, another broker."""

from collections.abc import Iterator

import pytest
from celery import Celery
from django.conf import settings

from events import dispatch
from tests.factories import order_body
from tests.integration.helpers import place, wait_for_status
from tests.processes import Worker
from tests.servers import Moto

pytestmark = [
    pytest.mark.integration,
    pytest.mark.bridges,
    pytest.mark.django_db(transaction=True),
]

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


class SqsWorker(Worker):
    """SQS has no fanout, so no remote control: the worker is ready when its log says so."""

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"Worker exited early:\n{self.log()}")
        return " ready." in self.log_path.read_text(errors="replace")


@pytest.fixture
def moto() -> Iterator[Moto]:
    server = Moto().start()
    yield server
    server.stop()


@pytest.fixture
def sqs_publisher(moto) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """This process sends its task messages to SQS too, as a web process on SQS would."""
    url = f"sqs://testing:testing@127.0.0.1:{moto.port}"
    app = Celery("sqs-test", broker=url, set_as_current=False)
    app.conf.broker_transport_options = {"region": "us-east-1", "is_secure": False}

    def publish(task_name: str, kwargs: dict[str, str], *, retry: bool | None) -> None:
        app.send_task(task_name, kwargs=kwargs, queue=settings.CELERY_TASK_DEFAULT_QUEUE)

    previous = dispatch.set_publisher(publish)
    yield url
    dispatch.set_publisher(previous)
    app.close()


def test_an_order_placed_with_workers_on_sqs_reaches_fulfilled(
    moto, sqs_publisher, customer_client, catalog, wait_settled
):
    worker = SqsWorker(
        env={
            "CELERY_BROKER_URL": sqs_publisher,
            "AWS_ENDPOINT_URL": moto.endpoint,
            "LOG_LEVEL": "INFO",
            **CREDENTIALS,
        }
    ).start()
    try:
        order = place(customer_client, order_body(("MUG-LOGO", 1)))
        final = wait_for_status(customer_client, order["id"], {"fulfilled", "failed"}, timeout=120)
        assert final["status"] == "fulfilled"
        wait_settled()
    finally:
        worker.stop()
