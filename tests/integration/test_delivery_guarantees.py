"""Delivery guarantees on real worker processes: order per aggregate, effect once, dead letters."""

import random

import pytest
from django.conf import settings
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from events import dispatch
from events.models import DeadLetter, Delivery, DeliveryAttempt, OutboxEvent
from events.services import delivery_resume_stalled, event_emit
from events.services.delivery import deliveries_create
from project.celery import app
from tests.integration.helpers import filesystem_broker, redelivering_broker
from tests.probe.models import Record, Switch
from tests.processes import LATE_ACK_ONLY, Worker, wait_until

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


def kill_mid_handler(victim: Worker) -> str:
    """SIGKILL ``victim`` while it runs the slow handler; the killed task's id."""
    emit("probe.slow", "slow-1", n=1, sleep=4)

    def running() -> str | None:
        active = app.control.inspect(destination=[victim.name], timeout=1).active() or {}
        for tasks in active.values():
            for task in tasks:
                if (
                    task["name"] == "events.deliver"
                    and task["kwargs"].get("subscriber") == "probe.slow"
                ):
                    return task["id"]
        return None

    task_id = wait_until(running, timeout=60, message="the slow handler to start")
    victim.kill()
    assert not Record.objects.exists()  # the killed handler's transaction never committed
    return task_id  # type: ignore[return-value]


def succeeded_once() -> DeliveryAttempt:
    """The slow delivery's one effect, and the try that made it."""
    assert Record.objects.filter(subscriber="probe.slow").count() == 1
    delivery = Delivery.objects.get(subscriber="probe.slow", status="succeeded")
    return delivery.attempt_log.get(succeeded=True)


@redelivering_broker
def test_a_handler_whose_worker_is_killed_is_redelivered_by_late_ack_with_the_watchdog_off(
    start_worker,
):
    """RabbitMQ and Redis hand the unacknowledged delivery back to the next worker.

    The watchdog is off in every process (nothing here calls it either): the delivery
    comes back only because its message was acknowledged late.
    """
    (victim,) = start_worker(env=LATE_ACK_ONLY)
    killed = kill_mid_handler(victim)

    start_worker(env=LATE_ACK_ONLY)

    wait_until(
        lambda: Delivery.objects.filter(subscriber="probe.slow", status="succeeded").exists(),
        timeout=90,
        message="the delivery to succeed after the kill",
    )
    assert succeeded_once().task_id == killed  # the same message, redelivered


@filesystem_broker
def test_on_the_filesystem_broker_the_watchdog_resends_a_delivery_whose_worker_was_killed(
    start_worker,
):
    """The filesystem transport lost the message with its worker: the watchdog, the
    mechanism on this broker alone, sends the delivery again."""
    (victim,) = start_worker()
    killed = kill_mid_handler(victim)

    start_worker()
    stall = {**settings.EVENTS, "WORKFLOW_STALL_SECONDS": 1}
    with override_settings(EVENTS=stall):

        def done() -> bool:
            delivery_resume_stalled()
            return Delivery.objects.filter(subscriber="probe.slow", status="succeeded").exists()

        wait_until(done, timeout=90, message="the delivery to succeed after the kill")
    assert succeeded_once().task_id != killed  # a new message, sent by the watchdog
