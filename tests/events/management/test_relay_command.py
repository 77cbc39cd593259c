"""The relay command's loop through a broker outage, with the broker stood in for.

The real relay process against a real broker is in tests/integration/test_relay.py.
"""

import logging
import os
import signal

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from events import subscriptions
from events.management.commands import relay as relay_command
from events.models import OutboxEvent
from events.services import event_emit
from events.services.relay import PublishRound

# The command manages its own connections, as a long-running process does.
pytestmark = pytest.mark.django_db(transaction=True)


def emit(count: int) -> None:
    for n in range(count):
        with transaction.atomic():
            event_emit(type="probe.tick", aggregate_id="relay", payload={"n": n})


def test_relay_once_says_so_when_the_broker_refuses_and_leaves_the_rows_pending(broker):
    broker.refuse.add("all")
    emit(3)

    with pytest.raises(CommandError) as refused:
        call_command("relay", "--once")

    assert str(refused.value) == relay_command.BROKER_REFUSED
    assert OutboxEvent.objects.pending().count() == 3
    assert broker.sent == []


def test_during_an_outage_the_relay_offers_one_row_per_poll_then_a_full_batch_again(
    broker, monkeypatch, caplog
):
    broker.refuse.add("all")
    emit(5)
    assert OutboxEvent.objects.pending().count() == 5  # the after-commit publish failed too
    limits: list[int] = []
    real_round = relay_command.outbox_publish_round

    def recording_round(*, limit: int):  # type: ignore[no-untyped-def]
        limits.append(limit)
        if len(limits) == 3:
            broker.refuse.clear()  # the broker is back for the third poll
        outcome = real_round(limit=limit)
        if not OutboxEvent.objects.pending().exists():
            os.kill(os.getpid(), signal.SIGTERM)  # stops the relay after this poll
        return outcome

    monkeypatch.setattr(relay_command, "outbox_publish_round", recording_round)
    handler_before = signal.getsignal(signal.SIGTERM)

    with caplog.at_level(logging.INFO, logger="events.relay"):
        call_command("relay", "--interval=0.01", "--batch-size=50")

    assert limits == [50, 1, 1, 50]
    # Each row went out once to each subscriber of probe.tick.
    assert len(broker.sent) == 5 * len(subscriptions.for_event_type("probe.tick"))
    messages = [record.getMessage() for record in caplog.records]
    assert "Broker refuses messages; offering one row per poll" in messages
    assert "Broker takes messages again" in messages
    assert messages[-1] == "Relay stopped"
    assert signal.getsignal(signal.SIGTERM) == handler_before  # the command handed it back


def test_an_empty_claim_during_an_outage_does_not_end_it(broker, monkeypatch, caplog):
    broker.refuse.add("all")
    emit(2)
    limits: list[int] = []
    real_round = relay_command.outbox_publish_round

    def recording_round(*, limit: int):  # type: ignore[no-untyped-def]
        limits.append(limit)
        if len(limits) == 2:
            # Another relay holds every pending row: this one claims nothing.
            return PublishRound(0, refused=False)
        if len(limits) == 3:
            broker.refuse.clear()
        outcome = real_round(limit=limit)
        if not OutboxEvent.objects.pending().exists():
            os.kill(os.getpid(), signal.SIGTERM)
        return outcome

    monkeypatch.setattr(relay_command, "outbox_publish_round", recording_round)

    with caplog.at_level(logging.INFO, logger="events.relay"):
        call_command("relay", "--interval=0.01", "--batch-size=50")

    assert limits == [50, 1, 1, 50]
    messages = [record.getMessage() for record in caplog.records]
    assert messages.count("Broker takes messages again") == 1
