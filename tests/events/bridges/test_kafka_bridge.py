"""The Kafka bridge as a real process against tansu: crashes, outages, a clean stop."""

import json
from collections import Counter, defaultdict

import pytest

from events.models import BridgeCheckpoint, OutboxEvent
from tests.events.bridges.conftest import ids_of, read_topic
from tests.events.bridges.factories import emit_ticks
from tests.processes import wait_until
from tests.servers import Tansu, free_port

pytestmark = [pytest.mark.bridges, pytest.mark.django_db(transaction=True)]

TOPIC = "events.probe"


def position() -> int:
    return (
        BridgeCheckpoint.objects.filter(name="kafka").values_list("position", flat=True).first()
        or 0
    )


def head() -> int:
    return OutboxEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def wait_caught_up(bridge, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    wait_until(
        lambda: bridge.running_log() and position() == head(),
        timeout=timeout,
        message="the bridge to publish up to the head of the store",
    )


def emit_round(aggregates: list[str], per_aggregate: int, start: int) -> list:  # type: ignore[no-untyped-def]
    """Events of several aggregates, interleaved, each in its own transaction."""
    events = []
    for n in range(start, start + per_aggregate):
        for aggregate in aggregates:
            events += emit_ticks(aggregate, 1, start=n)
    return events


def test_a_bridge_killed_mid_stream_and_restarted_delivers_every_event_in_order_per_aggregate(
    tansu, commands, no_fast_path
):
    env = {"KAFKA_BOOTSTRAP_SERVERS": tansu.bootstrap}
    aggregates = [f"agg-{i}" for i in range(8)]
    bridge = commands("bridge", "kafka", env=env)
    events = emit_round(aggregates, 15, start=1)
    wait_until(lambda: bridge.running_log() and position() > 0, timeout=30, message="a first batch")
    events += emit_round(aggregates, 10, start=16)  # the bridge is publishing these ...
    bridge.kill()  # ... when it dies
    killed_at = position()
    # As if it had died between Kafka's acknowledgement and the checkpoint's move: what
    # it published since that point goes out again.
    first = OutboxEvent.objects.get(event=events[0]).pk
    rolled_back = max(first - 1, killed_at - 40)
    BridgeCheckpoint.objects.filter(name="kafka").update(position=rolled_back)
    events += emit_round(aggregates, 10, start=26)
    restarted = commands("bridge", "kafka", env=env)
    wait_caught_up(restarted)

    expected = {str(e.id) for e in events}
    messages = read_topic(tansu.bootstrap, TOPIC, until=lambda got: expected <= set(ids_of(got)))
    counts = Counter(ids_of(messages))
    duplicates = sum(n - 1 for n in counts.values())
    assert set(counts) == expected, "every event arrives, and only those"
    assert killed_at < head()
    assert duplicates >= killed_at - rolled_back, "what was republished arrives twice"
    first_seen: dict[str, list[int]] = defaultdict(list)
    seen: set[str] = set()
    for message in messages:
        cloudevent = json.loads(message.value())
        assert message.key().decode() == cloudevent["aggregateid"]
        if cloudevent["id"] in seen:
            continue  # a duplicate, dropped by id as a consumer would
        seen.add(cloudevent["id"])
        first_seen[cloudevent["aggregateid"]].append(cloudevent["sequence"])
    for aggregate in aggregates:
        assert first_seen[aggregate] == list(range(1, 36)), aggregate
    print(f"{len(messages)} messages for {len(expected)} events: {duplicates} duplicates")


def test_the_broker_stopped_and_restarted_the_bridge_waits_and_resumes(
    tansu, commands, no_fast_path
):
    port = tansu.port
    bridge = commands("bridge", "kafka", env={"KAFKA_BOOTSTRAP_SERVERS": tansu.bootstrap})
    emit_ticks("a", 3)
    wait_caught_up(bridge)
    before = position()
    tansu.stop()
    during = emit_ticks("a", 5, start=4)
    wait_until(
        lambda: "unreachable" in bridge.running_log() or "not acknowledged" in bridge.running_log(),
        timeout=30,
        message="the bridge to notice the outage",
    )
    assert position() == before, "nothing counts as published while the broker is away"

    restarted = Tansu(port=port).start()
    try:
        wait_caught_up(bridge, timeout=90)
        expected = {str(e.id) for e in during}
        messages = read_topic(
            restarted.bootstrap, TOPIC, until=lambda got: expected <= set(ids_of(got))
        )
        assert expected <= set(ids_of(messages))
        assert "Traceback" not in bridge.log()
    finally:
        restarted.stop()


def test_a_refused_connection_at_start_is_a_clear_message_and_a_retry_and_sigterm_stops_it(
    commands, no_fast_path
):
    port = free_port()
    bridge = commands("bridge", "kafka", env={"KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{port}"})
    wait_until(lambda: "does not answer" in bridge.running_log(), timeout=30, message="the refusal")
    server = Tansu(port=port).start()
    try:
        events = emit_ticks("a", 3)
        wait_caught_up(bridge)
        messages = read_topic(server.bootstrap, TOPIC, until=lambda got: len(got) >= 3)
        assert ids_of(messages) == [str(e.id) for e in events]
        headers = dict(messages[0].headers())
        assert headers["content-type"] == b"application/cloudevents+json"
        assert headers["type"] == b"probe.tick"
        assert headers["sequence"] == b"1"

        assert bridge.terminate() == 0
        log = bridge.log()
        assert "Bridge kafka stopped" in log
        assert "Traceback" not in log
    finally:
        server.stop()
