"""Dispatch and delivery: one effect per (event, subscriber), retries, dead letters, replay."""

from datetime import timedelta
from functools import partial
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.utils import timezone

import events.tasks
from events import subscriptions
from events.models import (
    DeadLetter,
    Delivery,
    DeliveryAttempt,
    Event,
    SubscriberCursor,
    WorkflowRun,
)
from events.services import (
    dead_letter_discard,
    dead_letter_replay,
    delivery_resume_stalled,
    delivery_run,
    event_emit,
    event_replay,
)
from events.services.dead_letters import DeadLetterNotOpen
from events.services.delivery import _record_failure, deliveries_create
from orders.services import LineInput, order_place
from tests.probe.models import Record

pytestmark = pytest.mark.django_db

START_FULFILLMENT = "orders.start_fulfillment"


class HandlerBroke(Exception):
    pass


def always_fails(event) -> None:  # type: ignore[no-untyped-def]
    raise HandlerBroke(f"cannot handle {event.type}")


class FailsUntilFixed:
    """A handler with a bug that an operator fixes; it records its effect once it works."""

    def __init__(self) -> None:
        self.fixed = False
        self.effects: list = []

    def __call__(self, event) -> None:  # type: ignore[no-untyped-def]
        if not self.fixed:
            raise HandlerBroke("not fixed yet")
        self.effects.append(event.id)


@pytest.fixture
def register_subscriber():  # type: ignore[no-untyped-def]
    """Register throwaway subscribers of ``order.placed``; removed again after the test."""
    names: list[str] = []

    def register(name: str, handler, **options) -> str:  # type: ignore[no-untyped-def]
        subscriptions.subscriber(name, events=["order.placed"], **options)(handler)
        names.append(name)
        return name

    yield register
    for name in names:
        subscriptions._registry.pop(name, None)


@pytest.fixture
def placed(customer, catalog) -> Event:
    order, _ = order_place(
        customer=customer, lines=[LineInput("MUG-LOGO", 1)], payment_token="tok_ok"
    )
    return Event.objects.get(aggregate_id=str(order.pk), type="order.placed")


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


def test_a_discarded_dead_letter_is_neither_replayed_nor_run_again(placed, register_subscriber):
    name = register_subscriber("tests.always_fails", always_fails, max_attempts=2, backoff=0)
    delivery_run(event_id=placed.id, subscriber=name)
    delivery_run(event_id=placed.id, subscriber=name)
    dead_letter = DeadLetter.objects.get()

    discarded = dead_letter_discard(dead_letter=dead_letter, by="admin")

    assert discarded.status == DeadLetter.Status.DISCARDED
    assert (discarded.resolved_by, discarded.resolved_at is not None) == ("admin", True)
    delivery = Delivery.objects.get(event=placed, subscriber=name)
    assert delivery.status == Delivery.Status.DISCARDED
    with pytest.raises(DeadLetterNotOpen):
        dead_letter_replay(dead_letter=dead_letter)
    assert DeadLetter.objects.get().status == DeadLetter.Status.DISCARDED

    # A late redelivery of the same event does not run the handler either.
    assert delivery_run(event_id=placed.id, subscriber=name).status == "duplicate"
    assert DeliveryAttempt.objects.filter(delivery=delivery).count() == 2


def test_replaying_a_dead_letter_after_the_fix_delivers_it_once(
    placed, register_subscriber, monkeypatch, django_capture_on_commit_callbacks
):
    handler = FailsUntilFixed()
    name = register_subscriber("tests.fails_until_fixed", handler, max_attempts=1)
    assert delivery_run(event_id=placed.id, subscriber=name).status == Delivery.Status.DEAD
    dead_letter = DeadLetter.objects.get()
    handler.fixed = True

    sent: list[dict] = []

    def deliver_now(**kwargs: str) -> None:
        sent.append(kwargs)
        delivery_run(**kwargs)

    monkeypatch.setattr(events.tasks, "deliver", SimpleNamespace(delay=deliver_now))
    with django_capture_on_commit_callbacks(execute=True):
        replayed = dead_letter_replay(dead_letter=dead_letter, by="admin")
        assert sent == []  # the delivery is sent only after the replay commits

    assert sent == [{"event_id": str(placed.id), "subscriber": name}]
    assert replayed.status == DeadLetter.Status.REPLAYED
    assert handler.effects == [placed.id]
    delivery = Delivery.objects.get(event=placed, subscriber=name)
    # The replay started a fresh round of attempts; the log keeps both rounds.
    assert (delivery.status, delivery.attempts) == (Delivery.Status.SUCCEEDED, 1)
    assert list(delivery.attempt_log.values_list("number", "succeeded")) == [
        (1, False),
        (2, True),
    ]
    assert delivery_run(event_id=placed.id, subscriber=name).status == "duplicate"
    assert handler.effects == [placed.id]
    with pytest.raises(DeadLetterNotOpen):
        dead_letter_replay(dead_letter=dead_letter)


def test_an_early_event_waits_for_its_predecessor_which_sends_it_on(
    monkeypatch, django_capture_on_commit_callbacks
):
    with transaction.atomic():
        first = event_emit(type="probe.tick", aggregate_id="stream-1", payload={"n": 1})
        second = event_emit(type="probe.tick", aggregate_id="stream-1", payload={"n": 2})
    sent: list[dict] = []
    monkeypatch.setattr(
        events.tasks, "deliver", SimpleNamespace(delay=lambda **kw: sent.append(kw))
    )
    cursor = partial(
        SubscriberCursor.objects.get, subscriber="probe.first", aggregate_id="stream-1"
    )

    assert delivery_run(event_id=second.id, subscriber="probe.first").status == "waiting"
    assert cursor().has_waiting

    with django_capture_on_commit_callbacks(execute=True):
        assert delivery_run(event_id=first.id, subscriber="probe.first").status == "succeeded"
    assert sent == [{"event_id": str(second.id), "subscriber": "probe.first"}]

    with django_capture_on_commit_callbacks(execute=True):
        assert delivery_run(event_id=second.id, subscriber="probe.first").status == "succeeded"
    assert len(sent) == 1  # nothing else waited behind the second event
    assert (cursor().last_sequence, cursor().has_waiting) == (2, False)
    handled = Record.objects.filter(subscriber="probe.first").order_by("id")
    assert list(handled.values_list("sequence", flat=True)) == [1, 2]


def test_events_that_arrive_in_order_never_wait(monkeypatch, django_capture_on_commit_callbacks):
    with transaction.atomic():
        emitted = [
            event_emit(type="probe.tick", aggregate_id="stream-2", payload={"n": n})
            for n in range(3)
        ]
    sent: list[dict] = []
    monkeypatch.setattr(
        events.tasks, "deliver", SimpleNamespace(delay=lambda **kw: sent.append(kw))
    )

    with django_capture_on_commit_callbacks(execute=True):
        outcomes = [
            delivery_run(event_id=event.id, subscriber="probe.first").status for event in emitted
        ]

    assert outcomes == ["succeeded"] * 3
    assert sent == []
    cursor = SubscriberCursor.objects.get(subscriber="probe.first", aggregate_id="stream-2")
    assert (cursor.last_sequence, cursor.has_waiting) == (3, False)


def test_a_failure_that_lands_after_another_copy_succeeded_changes_nothing(placed):
    assert delivery_run(event_id=placed.id, subscriber=START_FULFILLMENT).status == "succeeded"

    # The failing copy's handler rolled back; it records its failure only after the lock.
    late = _record_failure(
        sub=subscriptions.get(START_FULFILLMENT),
        event_id=placed.id,
        exc=HandlerBroke("lost the race"),
        task_id="copy-2",
        started_at=timezone.now(),
        duration_ms=1,
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
    placed, register_subscriber, monkeypatch
):
    name = register_subscriber("tests.always_fails", always_fails, max_attempts=5, backoff=0)
    deliveries_create([(placed.id, placed.type)])  # dispatched: one pending row per subscriber
    assert delivery_run(event_id=placed.id, subscriber=name).status == Delivery.Status.FAILED
    long_ago = timezone.now() - timedelta(hours=1)
    Delivery.objects.filter(event=placed, subscriber=name).update(retry_at=long_ago)
    Delivery.objects.filter(event=placed, subscriber=START_FULFILLMENT).update(updated_at=long_ago)
    sent: list[dict] = []
    monkeypatch.setattr(
        events.tasks, "deliver", SimpleNamespace(delay=lambda **kw: sent.append(kw))
    )

    assert delivery_resume_stalled() == 2
    assert delivery_resume_stalled() == 0  # each counts as fresh again once resent

    assert sorted(message["subscriber"] for message in sent) == [START_FULFILLMENT, name]


def test_a_replayed_event_still_waiting_is_woken_even_after_a_later_one_ran_out_of_turn(
    monkeypatch, django_capture_on_commit_callbacks
):
    def tick(n: int):  # type: ignore[no-untyped-def]
        with transaction.atomic():
            return event_emit(type="probe.tick", aggregate_id="stream-3", payload={"n": n})

    first, second = tick(1), tick(2)
    for event in (first, second):
        assert delivery_run(event_id=event.id, subscriber="probe.first").status == "succeeded"
    sent: list[dict] = []
    monkeypatch.setattr(
        events.tasks, "deliver", SimpleNamespace(delay=lambda **kw: sent.append(kw))
    )
    with django_capture_on_commit_callbacks(execute=True):
        event_replay(subscriber="probe.first", aggregate_type="probe", aggregate_id="stream-3")
    sent.clear()

    # The replayed second event arrives first and waits; a new, third event runs at once.
    assert delivery_run(event_id=second.id, subscriber="probe.first").status == "waiting"
    third = tick(3)
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery_run(event_id=third.id, subscriber="probe.first").status == "succeeded"
    assert sent == []
    # The replayed first event runs: the second, still waiting, is sent on.
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery_run(event_id=first.id, subscriber="probe.first").status == "succeeded"

    assert sent == [{"event_id": str(second.id), "subscriber": "probe.first"}]
