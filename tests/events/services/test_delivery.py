"""Delivery: one effect per (event, subscriber), in order per aggregate, retries, the watchdog."""

from datetime import timedelta
from functools import partial

import pytest
from django.db import transaction
from django.utils import timezone

from events import dispatch, subscriptions
from events.models import (
    DeadLetter,
    Delivery,
    DeliveryAttempt,
    SubscriberCursor,
    WorkflowRun,
)
from events.services import (
    delivery_resume_stalled,
    delivery_run,
    event_emit,
    event_replay,
)
from events.services.delivery import DeliveryTry, deliveries_create, delivery_record_failure
from tests.fakes import FailsUntilFixed, HandlerBroke, always_fails
from tests.probe.models import Record

pytestmark = pytest.mark.django_db

START_FULFILLMENT = "orders.start_fulfillment"


def test_an_event_dispatched_and_delivered_twice_has_one_effect(placed):
    first_dispatch = [name for _, name in deliveries_create([(placed.id, placed.type)])]
    second_dispatch = [name for _, name in deliveries_create([(placed.id, placed.type)])]

    assert START_FULFILLMENT in first_dispatch
    assert second_dispatch == first_dispatch
    assert Delivery.objects.filter(event=placed).count() == len(first_dispatch)

    first = delivery_run(event_id=placed.id, subscriber=START_FULFILLMENT, task_id="task-1")
    second = delivery_run(event_id=placed.id, subscriber=START_FULFILLMENT, task_id="task-2")

    assert (first.status, first.retry_in) == ("succeeded", None)
    assert second.status == "duplicate"
    run = WorkflowRun.objects.get()
    assert (run.subject_id, run.correlation_id) == (placed.aggregate_id, placed.correlation_id)
    delivery = Delivery.objects.get(event=placed, subscriber=START_FULFILLMENT)
    assert (delivery.status, delivery.attempts) == (Delivery.Status.SUCCEEDED, 1)
    assert delivery.succeeded_at is not None
    attempt = DeliveryAttempt.objects.get(delivery=delivery)
    assert (attempt.number, attempt.succeeded, attempt.task_id) == (1, True, "task-1")


def test_a_subscriber_that_keeps_failing_is_retried_then_dead_lettered(placed, register_subscriber):
    name = register_subscriber("tests.always_fails", always_fails, max_attempts=2, backoff=0)

    first = delivery_run(event_id=placed.id, subscriber=name, task_id="task-1")

    assert first.status == Delivery.Status.FAILED
    assert first.retry_in is not None
    delivery = Delivery.objects.get(event=placed, subscriber=name)
    assert (delivery.status, delivery.attempts) == (Delivery.Status.FAILED, 1)
    assert delivery.last_error == "HandlerBroke: cannot handle order.placed"
    assert not DeadLetter.objects.exists()

    second = delivery_run(event_id=placed.id, subscriber=name, task_id="task-2")

    assert (second.status, second.retry_in) == (Delivery.Status.DEAD, None)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.DEAD, 2)
    dead_letter = DeadLetter.objects.get()
    assert dead_letter.delivery == delivery
    assert dead_letter.status == DeadLetter.Status.OPEN
    assert dead_letter.error == "HandlerBroke: cannot handle order.placed"
    assert "Traceback" in dead_letter.traceback
    assert "always_fails" in dead_letter.traceback
    attempts = DeliveryAttempt.objects.filter(delivery=delivery)
    assert list(attempts.values_list("number", "succeeded", "task_id")) == [
        (1, False, "task-1"),
        (2, False, "task-2"),
    ]
    assert all("HandlerBroke" in a.traceback for a in attempts)


def test_an_early_event_waits_for_its_predecessor_which_sends_it_on(
    broker, django_capture_on_commit_callbacks
):
    with transaction.atomic():
        first = event_emit(type="probe.tick", aggregate_id="stream-1", payload={"n": 1})
        second = event_emit(type="probe.tick", aggregate_id="stream-1", payload={"n": 2})
    cursor = partial(
        SubscriberCursor.objects.get, subscriber="probe.first", aggregate_id="stream-1"
    )

    assert delivery_run(event_id=second.id, subscriber="probe.first").status == "waiting"
    assert cursor().has_waiting

    with django_capture_on_commit_callbacks(execute=True):
        assert delivery_run(event_id=first.id, subscriber="probe.first").status == "succeeded"
    assert broker.of(dispatch.DELIVER) == [
        {"event_id": str(second.id), "subscriber": "probe.first"}
    ]

    with django_capture_on_commit_callbacks(execute=True):
        assert delivery_run(event_id=second.id, subscriber="probe.first").status == "succeeded"
    assert len(broker.of(dispatch.DELIVER)) == 1  # nothing else waited behind the second event
    assert (cursor().last_sequence, cursor().has_waiting) == (2, False)
    handled = Record.objects.filter(subscriber="probe.first").order_by("id")
    assert list(handled.values_list("sequence", flat=True)) == [1, 2]


def test_events_that_arrive_in_order_never_wait(broker, django_capture_on_commit_callbacks):
    with transaction.atomic():
        emitted = [
            event_emit(type="probe.tick", aggregate_id="stream-2", payload={"n": n})
            for n in range(3)
        ]

    with django_capture_on_commit_callbacks(execute=True):
        outcomes = [
            delivery_run(event_id=event.id, subscriber="probe.first").status for event in emitted
        ]

    assert outcomes == ["succeeded"] * 3
    assert broker.of(dispatch.DELIVER) == []
    cursor = SubscriberCursor.objects.get(subscriber="probe.first", aggregate_id="stream-2")
    assert (cursor.last_sequence, cursor.has_waiting) == (3, False)


def test_a_failure_that_lands_after_another_copy_succeeded_changes_nothing(placed):
    assert delivery_run(event_id=placed.id, subscriber=START_FULFILLMENT).status == "succeeded"

    # The failing copy's handler rolled back; it records its failure only after the lock.
    late = delivery_record_failure(
        sub=subscriptions.get(START_FULFILLMENT),
        event_id=placed.id,
        exc=HandlerBroke("lost the race"),
        this_try=DeliveryTry(task_id="copy-2", started_at=timezone.now(), clock=0.0),
    )

    assert late.status == "duplicate"
    delivery = Delivery.objects.get(event=placed, subscriber=START_FULFILLMENT)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("succeeded", 1, "")
    assert delivery.attempt_log.count() == 1
    assert not DeadLetter.objects.exists()


def test_a_dead_delivery_waits_for_its_replay_and_a_stray_copy_does_not_run_it(
    placed, register_subscriber
):
    handler = FailsUntilFixed()
    name = register_subscriber("tests.fails_until_fixed", handler, max_attempts=1)
    assert delivery_run(event_id=placed.id, subscriber=name).status == Delivery.Status.DEAD
    handler.fixed = True

    assert delivery_run(event_id=placed.id, subscriber=name).status == "duplicate"

    assert handler.effects == []
    assert Delivery.objects.get(event=placed, subscriber=name).status == Delivery.Status.DEAD


def test_the_watchdog_resends_lost_messages_and_overdue_retries_once_per_stall(
    placed, register_subscriber, broker
):
    name = register_subscriber("tests.always_fails", always_fails, max_attempts=5, backoff=0)
    deliveries_create([(placed.id, placed.type)])  # dispatched: one pending row per subscriber
    assert delivery_run(event_id=placed.id, subscriber=name).status == Delivery.Status.FAILED
    long_ago = timezone.now() - timedelta(hours=1)
    Delivery.objects.filter(event=placed, subscriber=name).update(retry_at=long_ago)
    Delivery.objects.filter(event=placed, subscriber=START_FULFILLMENT).update(updated_at=long_ago)

    assert delivery_resume_stalled() == 2
    assert delivery_resume_stalled() == 0  # each counts as fresh again once resent

    assert sorted(message["subscriber"] for message in broker.of(dispatch.DELIVER)) == [
        START_FULFILLMENT,
        name,
    ]


def test_a_replayed_event_still_waiting_is_woken_even_after_a_later_one_ran_out_of_turn(
    broker, django_capture_on_commit_callbacks
):
    def tick(n: int):  # type: ignore[no-untyped-def]
        with transaction.atomic():
            return event_emit(type="probe.tick", aggregate_id="stream-3", payload={"n": n})

    first, second = tick(1), tick(2)
    for event in (first, second):
        assert delivery_run(event_id=event.id, subscriber="probe.first").status == "succeeded"
    with django_capture_on_commit_callbacks(execute=True):
        event_replay(subscriber="probe.first", aggregate_type="probe", aggregate_id="stream-3")
    broker.clear()

    # The replayed second event arrives first and waits; a new, third event runs at once.
    assert delivery_run(event_id=second.id, subscriber="probe.first").status == "waiting"
    third = tick(3)
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery_run(event_id=third.id, subscriber="probe.first").status == "succeeded"
    assert broker.of(dispatch.DELIVER) == []
    # The replayed first event runs: the second, still waiting, is sent on.
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery_run(event_id=first.id, subscriber="probe.first").status == "succeeded"

    assert broker.of(dispatch.DELIVER) == [
        {"event_id": str(second.id), "subscriber": "probe.first"}
    ]
