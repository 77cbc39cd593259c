"""Fixtures of the engine's unit tests."""

import pytest

from events.services import relay


class BrokerDown(Exception):
    pass


@pytest.fixture
def broker(monkeypatch):  # type: ignore[no-untyped-def]
    """Stands in for the broker: records each message, raises for those in ``broker.refuse``.

    ``refuse`` holds event ids (every message of the event) or (event id, subscriber) pairs;
    ``"all"`` refuses everything. The real broker is in tests/integration.
    """
    broker = type("Broker", (), {"sent": [], "refuse": set()})()

    def publish(event_id, subscriber):  # type: ignore[no-untyped-def]
        if {"all", event_id, (event_id, subscriber)} & broker.refuse:
            raise BrokerDown("connection refused")
        broker.sent.append((event_id, subscriber))

    monkeypatch.setattr(relay, "_publish", publish)
    return broker
