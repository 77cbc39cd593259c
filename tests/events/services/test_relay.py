"""Claiming the outbox: what gets marked published, and what a failed publish hands back.

The broker side is replaced by a recorder here; the real broker is in tests/integration.
"""

from collections import Counter
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from events import subscriptions
from events.models import Delivery, OutboxEvent
from events.services import event_emit, outbox_publish
from events.services.relay import PublishRound, outbox_publish_round

pytestmark = pytest.mark.django_db


def subscribers() -> list[str]:
    """The subscribers of probe.tick in dispatch order: the probe's two, and any subscriber
    of every event (the webhooks fan-out)."""
    return [sub.name for sub in subscriptions.for_event_type("probe.tick")]


def emit(count: int) -> list:
    # Inside the test's transaction the after-commit publish never runs: rows stay pending.
    with transaction.atomic():
        return [
            event_emit(type="probe.tick", aggregate_id="claim", payload={"n": n}).id
            for n in range(count)
        ]


def row(event_id) -> OutboxEvent:  # type: ignore[no-untyped-def]
    return OutboxEvent.objects.get(event_id=event_id)


def test_publishing_sends_one_message_per_subscriber_in_order_and_marks_rows_once(broker):
    ids = emit(3)

    names = subscribers()
    assert {"probe.first", "probe.second"} <= set(names)

    assert outbox_publish(event_ids=ids) == 3
    assert [event_id for event_id, _ in broker.sent[:: len(names)]] == ids  # oldest first
    for event_id in ids:
        assert [name for e, name in broker.sent if e == event_id] == names
        assert row(event_id).published_at is not None
        assert (row(event_id).attempts, row(event_id).last_error) == (1, "")
    assert Delivery.objects.filter(event_id__in=ids).count() == 3 * len(names)

    assert outbox_publish(event_ids=ids) == 0
    assert outbox_publish() == 0
    assert len(broker.sent) == 3 * len(names)


def test_a_failed_publish_hands_back_the_failed_row_and_leaves_the_untried_ones_as_they_were(
    broker,
):
    first, second, third = emit(3)
    OutboxEvent.objects.filter(event_id=third).update(attempts=4, last_error="Timeout: earlier")
    broker.refuse.add(second)

    assert outbox_publish_round() == PublishRound(1, refused=True)

    assert row(first).published_at is not None
    failed = row(second)
    assert failed.published_at is None
    assert (failed.attempts, failed.last_error) == (1, "BrokerDown: connection refused")
    untried = row(third)
    assert (untried.published_at, untried.attempts, untried.last_error) == (
        None,
        4,
        "Timeout: earlier",
    )
    assert OutboxEvent.objects.pending().count() == 2

    broker.refuse.clear()
    assert outbox_publish_round() == PublishRound(2, refused=False)
    assert [e for e, _ in broker.sent[:: len(subscribers())]] == [first, second, third]
    assert (row(second).attempts, row(second).last_error) == (2, "")
    assert (row(third).attempts, row(third).last_error) == (5, "")
    assert not OutboxEvent.objects.pending().exists()


def test_a_row_whose_second_subscriber_was_refused_stays_pending_and_goes_out_whole_later(
    broker,
):
    (event_id,) = emit(1)
    broker.refuse.add((event_id, "probe.second"))

    assert outbox_publish() == 0
    assert row(event_id).published_at is None
    assert row(event_id).last_error == "BrokerDown: connection refused"

    broker.refuse.clear()
    assert outbox_publish() == 1
    # The messages sent before the refused one went out twice; their inboxes keep the
    # effects single.
    names = subscribers()
    before = names[: names.index("probe.second")]
    assert "probe.first" in before
    assert Counter(name for _, name in broker.sent) == Counter(before + names)
    assert Delivery.objects.filter(event_id=event_id).count() == len(names)


def test_the_sweeper_takes_only_rows_old_enough_and_at_most_its_limit(broker):
    ids = emit(3)
    assert outbox_publish(min_age_seconds=60) == 0

    OutboxEvent.objects.filter(event_id__in=ids[:2]).update(
        created_at=timezone.now() - timedelta(minutes=2)
    )
    assert outbox_publish(min_age_seconds=60, limit=1) == 1
    assert row(ids[0]).published_at is not None
    assert row(ids[1]).published_at is None
    assert outbox_publish(min_age_seconds=60) == 1
    assert row(ids[1]).published_at is not None
    assert row(ids[2]).published_at is None
