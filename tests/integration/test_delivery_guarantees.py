"""Delivery guarantees on real worker processes: order per aggregate, effect once, dead letters."""

import random

import pytest
from django.conf import settings
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from events import dispatch
from events.models import DeadLetter, Delivery, OutboxEvent
from events.services import delivery_resume_stalled, event_emit
from events.services.delivery import deliveries_create
from project.celery import app
from tests.probe.models import Record, Switch
from tests.processes import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def emit(event_type: str, aggregate_id: str, **payload) -> None:  # type: ignore[no-untyped-def]
    with transaction.atomic():
        event_emit(type=event_type, aggregate_id=aggregate_id, payload=payload)


def publish_shuffled_twice(rows: list[OutboxEvent]) -> None:
    """What a misbehaving relay and broker could do: every message twice, in any order."""
    messages = deliveries_create([(row.event_id, row.event.type) for row in rows]) * 2
    random.Random(4).shuffle(messages)
    for event_id, subscriber in messages:
        dispatch.delivery(event_id, subscriber, retry=False)
    OutboxEvent.objects.filter(pk__in=[r.pk for r in rows]).update(published_at=timezone.now())


def test_each_subscriber_sees_each_aggregates_events_in_order_and_once(start_worker, no_fast_path):
    aggregates, per_aggregate = 20, 10
    for n in range(per_aggregate):
        for a in range(aggregates):
            emit("probe.tick", f"agg-{a}", n=n)
    rows = list(OutboxEvent.objects.pending().select_related("event"))
    start_worker(count=4, concurrency=1)
    publish_shuffled_twice(rows)

    probes = ("probe.first", "probe.second")
    total = aggregates * per_aggregate * len(probes)
    wait_until(
        lambda: Delivery.objects.filter(subscriber__in=probes, status="succeeded").count() == total,
        timeout=180,
        message=f"{total} deliveries to succeed",
    )
    for subscriber in probes:
        for a in range(aggregates):
            seen = list(
                Record.objects.filter(subscriber=subscriber, aggregate_id=f"agg-{a}")
                .order_by("id")
                .values_list("sequence", flat=True)
            )
            assert seen == list(range(1, per_aggregate + 1)), (subscriber, a, seen)


def test_a_poison_event_is_dead_lettered_and_a_replay_after_the_fix_takes_effect_once(
    start_worker, staff_client
):
    start_worker()
    emit("probe.poison", "poison-1", n=1)
    dead = wait_until(
        lambda: DeadLetter.objects.filter(status="open").first(),
        timeout=60,
        message="the poison event to be dead-lettered",
    )
    delivery = Delivery.objects.get(pk=dead.delivery_id)
    assert (delivery.subscriber, delivery.status, delivery.attempts) == (
        "probe.poisoned",
        "dead",
        3,
    )
    assert "PoisonError" in dead.error and "Traceback" in dead.traceback
    assert not Record.objects.exists()

    Switch.objects.create(name="healed", on=True)
    response = staff_client.post(f"/api/dead-letters/{dead.pk}/replay/")
    assert response.status_code == 200, response.content
    wait_until(
        lambda: Delivery.objects.filter(pk=delivery.pk, status="succeeded").exists(),
        timeout=60,
        message="the replayed delivery to succeed",
    )
    assert Record.objects.filter(subscriber="probe.poisoned").count() == 1
    assert staff_client.post(f"/api/dead-letters/{dead.pk}/replay/").status_code == 409
    assert delivery.attempt_log.count() == 4


def test_a_worker_killed_mid_handler_leaves_the_effect_to_happen_exactly_once(start_worker):
    (victim,) = start_worker()
    emit("probe.slow", "slow-1", n=1, sleep=4)

    def handler_running() -> bool:
        active = app.control.inspect(destination=[victim.name], timeout=1).active() or {}
        return any(
            task["name"] == "events.deliver" and task["kwargs"].get("subscriber") == "probe.slow"
            for tasks in active.values()
            for task in tasks
        )

    wait_until(handler_running, timeout=60, message="the slow handler to start")
    victim.kill()
    assert not Record.objects.exists()  # the killed handler's transaction never committed

    start_worker()
    # RabbitMQ hands the unacknowledged message to the new worker; the filesystem broker
    # lost it with the worker, and the watchdog sends the delivery again.
    stall = {**settings.EVENTS, "WORKFLOW_STALL_SECONDS": 1}
    with override_settings(EVENTS=stall):

        def done() -> bool:
            delivery_resume_stalled()
            return Delivery.objects.filter(subscriber="probe.slow", status="succeeded").exists()

        wait_until(done, timeout=90, message="the delivery to succeed after the kill")
    assert Record.objects.filter(subscriber="probe.slow").count() == 1
