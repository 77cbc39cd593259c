"""The services count what they did for Prometheus: emitted, published, handled, failed."""

import pytest
from django.db import transaction

from events.services import delivery_run, event_emit, outbox_publish
from events.services.delivery import deliveries_create
from tests.fakes import always_fails
from tests.metrics import sample

pytestmark = pytest.mark.django_db

START_FULFILLMENT = "orders.start_fulfillment"


def test_an_emitted_event_is_counted_once_its_transaction_commits(
    django_capture_on_commit_callbacks,
):
    before = sample("events_emitted_total", type="probe.tick")

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        event_emit(type="probe.tick", aggregate_id="m-1", payload={"n": 1})
        assert sample("events_emitted_total", type="probe.tick") == before

    assert sample("events_emitted_total", type="probe.tick") == before + 1


def test_an_event_whose_transaction_rolls_back_is_not_counted(django_capture_on_commit_callbacks):
    before = sample("events_emitted_total", type="probe.tick")

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        event_emit(type="probe.tick", aggregate_id="m-2", payload={"n": 1})
        raise RuntimeError("the change fails")

    assert sample("events_emitted_total", type="probe.tick") == before


def test_publishing_counts_each_event_and_the_size_of_the_batch(broker):
    with transaction.atomic():
        ids = [
            event_emit(type="probe.tick", aggregate_id="m-3", payload={"n": n}).id for n in range(3)
        ]
    published = sample("events_published_total", type="probe.tick")
    batches = sample("events_outbox_publish_batch_size_count", publisher="relay")
    rows = sample("events_outbox_publish_batch_size_sum", publisher="relay")
    after_commit = sample("events_outbox_publish_batch_size_count", publisher="after_commit")

    assert outbox_publish() == 3
    assert outbox_publish(event_ids=ids) == 0  # nothing left: no batch

    assert sample("events_published_total", type="probe.tick") == published + 3
    assert sample("events_outbox_publish_batch_size_count", publisher="relay") == batches + 1
    assert sample("events_outbox_publish_batch_size_sum", publisher="relay") == rows + 3
    assert (
        sample("events_outbox_publish_batch_size_count", publisher="after_commit") == after_commit
    )


def test_a_handled_delivery_is_counted_by_type_and_subscriber_with_its_duration(placed):
    deliveries_create([(placed.id, placed.type)])
    labels = {"type": "order.placed", "subscriber": START_FULFILLMENT}
    handled = sample("events_handled_total", **labels)
    timed = sample(
        "events_delivery_duration_seconds_count", subscriber=START_FULFILLMENT, result="succeeded"
    )

    delivery_run(event_id=placed.id, subscriber=START_FULFILLMENT)
    delivery_run(event_id=placed.id, subscriber=START_FULFILLMENT)  # a duplicate: not counted

    assert sample("events_handled_total", **labels) == handled + 1
    assert sample("events_failed_total", **labels) == 0
    assert (
        sample(
            "events_delivery_duration_seconds_count",
            subscriber=START_FULFILLMENT,
            result="succeeded",
        )
        == timed + 1
    )


def test_failed_tries_are_counted_and_the_last_one_as_dead_lettered(placed, register_subscriber):
    name = register_subscriber("tests.metrics_fails", always_fails, max_attempts=2, backoff=0)
    labels = {"type": "order.placed", "subscriber": name}

    delivery_run(event_id=placed.id, subscriber=name)

    assert sample("events_failed_total", **labels) == 1
    assert sample("events_dead_lettered_total", **labels) == 0

    delivery_run(event_id=placed.id, subscriber=name)

    assert sample("events_failed_total", **labels) == 2
    assert sample("events_dead_lettered_total", **labels) == 1
    assert sample("events_handled_total", **labels) == 0
    assert sample("events_delivery_duration_seconds_count", subscriber=name, result="dead") == 1
