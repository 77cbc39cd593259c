"""The Kafka bridge against raw confluent-kafka produce, and its lag from commit to Kafka.

One command: ``make bench-bridges`` (``QUICK=1`` for CI's short run), or
``.venv/bin/python bench/bridges.py --help``. It starts a tansu broker (the Kafka protocol,
in memory) on a free port of 127.0.0.1, makes a fresh SQLite database under ``var/`` and
migrates it in a subprocess, then measures in this process, in the same run:

1. throughput: the same stored events published once by raw ``Producer.produce`` of
   their ready-made CloudEvent messages (idempotent, ``acks=all``, as the bridge is
   configured) and once by the bridge (``BridgeRunner`` with the ``KafkaPublisher``: it
   reads the store after its checkpoint, builds each CloudEvent, produces, waits for every
   acknowledgement, moves the checkpoint); events/s of each and their ratio (target >= 0.5);
2. lag: events emitted one per transaction at a steady rate while the bridge runs; for
   each, the time from its commit to its arrival at a consumer of the topic; p50 and p99.

Results go to ``bench/results/<date>-bridges.json`` and a Markdown summary, printed and
written to ``bench/results/latest-bridges.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))

TARGET_RATIO = 0.5
EVENT_TYPE = "bench.ping"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5000, help="events for the throughput")
    parser.add_argument("--lag-events", type=int, default=1000, help="events for the lag")
    parser.add_argument("--rate", type=float, default=200.0, help="events/s emitted for the lag")
    parser.add_argument("--aggregates", type=int, default=50, help="aggregates the events share")
    parser.add_argument("--repeats", type=int, default=3, help="throughput rounds of each side")
    parser.add_argument(
        "--quick", action="store_true", help="CI's short run: 1000 and 200 events, 2 rounds"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database folder")
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.lag_events, args.repeats = 1000, 200, 2
    return args


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def prepare(var_dir: Path, bootstrap: str, prefix: str) -> None:
    """Environment of the run, a migrated database, then Django set up in this process."""
    os.environ.update(
        VAR_DIR=str(var_dir),
        DJANGO_SETTINGS_MODULE="project.settings",
        DJANGO_SECRET_KEY="bench-only-secret-key",
        DJANGO_EXTRA_APPS="bench.benchapp",
        KAFKA_BOOTSTRAP_SERVERS=bootstrap,
        KAFKA_TOPIC_PREFIX=prefix,
        LOG_LEVEL="WARNING",
    )
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
        os.environ.pop(name, None)
    subprocess.run(
        [str(BIN / "python"), "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        check=True,
    )
    import django

    django.setup()
    from django.conf import settings

    # Only the bridge publishes: no after-commit publish to the task broker in the way.
    settings.EVENTS = {**settings.EVENTS, "PUBLISH_ON_COMMIT": False}


def emit(count: int, aggregates: int, start: int = 0) -> list[Any]:
    from django.db import transaction

    from events.services import event_emit

    events = []
    with transaction.atomic():
        for n in range(start, start + count):
            events.append(
                event_emit(type=EVENT_TYPE, aggregate_id=f"b{n % aggregates}", payload={"n": n})
            )
    return events


def raw_producer(bootstrap: str) -> Any:
    """A producer configured as the bridge's (idempotent, ``acks=all``), already connected."""
    from confluent_kafka import Producer

    from events.bridges.kafka import PRODUCER_DEFAULTS

    producer = Producer({**PRODUCER_DEFAULTS, "bootstrap.servers": bootstrap})
    producer.list_topics(timeout=10)
    return producer


def produce_all(producer: Any, topic: str, messages: Any) -> None:
    for key, value, headers in messages:
        while True:
            try:
                producer.produce(topic, key=key, value=value, headers=headers)
                break
            except BufferError:
                producer.poll(0.05)
    assert producer.flush(120) == 0, "raw produce: not every message was acknowledged"


def message(event: Any) -> tuple[str, bytes, list[tuple[str, str]]]:
    """The bridge's message for a stored event: key, CloudEvent value, envelope headers."""
    from events.bridges import cloudevents
    from events.bridges.kafka import message_headers

    cloudevent = cloudevents.to_cloudevent(event)
    return event.aggregate_id, cloudevents.encode(cloudevent), message_headers(cloudevent)


def raw_produce(messages: list[Any], bootstrap: str, topic: str) -> float:
    """Seconds to produce the ready-made messages and have every one acknowledged."""
    producer = raw_producer(bootstrap)
    started = time.perf_counter()
    produce_all(producer, topic, messages)
    return time.perf_counter() - started


def raw_encode_produce(stored: list[Any], bootstrap: str, topic: str) -> float:
    """The same, each message built from the in-memory event in the loop (no database)."""
    producer = raw_producer(bootstrap)
    started = time.perf_counter()
    produce_all(producer, topic, (message(event) for event in stored))
    return time.perf_counter() - started


class RunningBridge:
    """The Kafka bridge's loop in a thread of this process, publishing under ``prefix``."""

    def __init__(self, prefix: str) -> None:
        from events.bridges import config
        from events.bridges.kafka import KafkaPublisher
        from events.bridges.runner import BridgeRunner

        self.stop = threading.Event()
        bridge = config.get("kafka")
        bridge = dataclasses.replace(bridge, options={**bridge.options, "topic_prefix": prefix})
        self.runner = BridgeRunner(bridge, KafkaPublisher(bridge), self.stop)
        self.thread = threading.Thread(target=self._run, name="bridge", daemon=True)

    def _run(self) -> None:
        from django.db import connection

        try:
            self.runner.run()
        finally:
            connection.close()

    def start(self) -> RunningBridge:
        self.thread.start()
        return self

    def halt(self) -> None:
        self.stop.set()
        self.thread.join(timeout=30)


def position() -> int:
    from events.models import BridgeCheckpoint

    return (
        BridgeCheckpoint.objects.filter(name="kafka").values_list("position", flat=True).first()
        or 0
    )


def head() -> int:
    from events.models import OutboxEvent

    return OutboxEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def wait_caught_up(timeout: float) -> None:
    deadline = time.monotonic() + timeout
    target = head()
    while position() < target:
        if time.monotonic() > deadline:
            raise SystemExit(f"The bridge did not catch up in {timeout}s ({position()}/{target})")
        time.sleep(0.005)


def bridge_throughput(prefix: str) -> float:
    """Seconds from the bridge's start (already connected) to every event acknowledged.

    The checkpoint goes back to the start first, so each round carries the same events.
    """
    from events.models import BridgeCheckpoint

    BridgeCheckpoint.objects.filter(name="kafka").update(position=0, gaps=[])
    bridge = RunningBridge(prefix)
    bridge.runner.publisher.connect()
    started = time.perf_counter()
    bridge.start()
    wait_caught_up(timeout=300)
    elapsed = time.perf_counter() - started
    bridge.halt()
    return elapsed


def measure_throughput(
    args: argparse.Namespace, events: list[Any], bootstrap: str, prefix: str
) -> dict[str, Any]:
    """Raw produce and the bridge in alternating order, round by round (raw first, then
    bridge first, ...), so a change in the machine's load falls on both sides.

    Every round writes to new topics: on tansu a second producer on a topic that another
    one wrote to waits about half a second for its first acknowledgements.
    """
    from events.bridges.stored import stored_event

    stored = [stored_event(event) for event in events]
    messages = [message(event) for event in stored]
    rounds: dict[str, list[float]] = {"raw": [], "raw_encode": [], "bridge": []}
    for n in range(args.repeats):
        sides = ["raw", "raw_encode", "bridge"]
        for side in sides if n % 2 == 0 else reversed(sides):
            if side == "raw":
                seconds = raw_produce(messages, bootstrap, f"{prefix}raw{n}")
            elif side == "raw_encode":
                seconds = raw_encode_produce(stored, bootstrap, f"{prefix}encode{n}")
            else:
                seconds = bridge_throughput(f"{prefix}bridge{n}.")
            rounds[side].append(seconds)
    return throughput(len(events), rounds)


def create_topic(bootstrap: str, topic: str) -> None:
    """An empty topic, made without writing to it (see ``measure_throughput``)."""
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, num_partitions=3)]).values():
        future.result(timeout=10)


def topic_reader(bootstrap: str, topic: str) -> Any:
    """A consumer of every partition of ``topic``, polling with little delay."""
    from confluent_kafka import OFFSET_END, Consumer, TopicPartition

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"bench-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "fetch.wait.max.ms": 10,
        }
    )
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, OFFSET_END) for p in partitions])
    return consumer


def measure_lag(args: argparse.Namespace, bootstrap: str, prefix: str) -> list[float]:
    """Commit-to-consumer seconds of events emitted at ``args.rate`` while the bridge runs."""
    topic = f"{prefix}bench"
    create_topic(bootstrap, topic)
    consumer = topic_reader(bootstrap, topic)
    committed: dict[str, float] = {}
    arrived: dict[str, float] = {}

    emitted = threading.Event()

    def consume() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if emitted.is_set() and committed.keys() <= arrived.keys():
                return
            message = consumer.poll(0.05)
            if message is None:
                continue
            if message.error():
                print("consumer:", message.error(), file=sys.stderr)
                continue
            arrived.setdefault(json.loads(message.value())["id"], time.time())

    reader = threading.Thread(target=consume, name="consumer")
    reader.start()
    time.sleep(1.0)  # time to skip what the throughput phase left in the topic
    bridge = RunningBridge(prefix).start()
    interval = 1.0 / args.rate
    next_at = time.monotonic()
    for n in range(args.lag_events):
        [event] = emit(1, args.aggregates, start=args.events + n)
        committed[str(event.id)] = time.time()
        next_at += interval
        time.sleep(max(0.0, next_at - time.monotonic()))
    emitted.set()
    reader.join()
    bridge.halt()
    consumer.close()
    missing = set(committed) - set(arrived)
    if missing:
        extra = len(set(arrived) - set(committed))
        raise SystemExit(
            f"{len(missing)} events never reached the consumer ({len(arrived)} arrived, "
            f"{extra} of them not emitted here)"
        )
    return [arrived[event_id] - committed[event_id] for event_id in committed]


def summary(result: dict[str, Any]) -> str:
    t, lag = result["throughput"], result["lag"]
    verdict = "meets" if t["ratio"] >= TARGET_RATIO else "MISSES"
    return "\n".join(
        [
            f"# Kafka bridge benchmark ({result['date']}, {result['machine']})",
            "",
            f"Broker: tansu {result['tansu']} on 127.0.0.1, SQLite database, "
            f"{t['events']} events over {result['aggregates']} aggregates, "
            f"{t['rounds']} rounds of each side in alternating order.",
            "",
            "| figure | value |",
            "| --- | --- |",
            f"| raw confluent-kafka produce of the ready-made messages | "
            f"{t['raw_events_per_second']:.0f} events/s |",
            f"| raw produce, each message built from the event in memory | "
            f"{t['raw_encode_events_per_second']:.0f} events/s |",
            f"| Kafka bridge (read, encode, produce, ack, checkpoint) | "
            f"{t['bridge_events_per_second']:.0f} events/s |",
            f"| bridge / raw | {t['ratio']:.2f} ({verdict} the {TARGET_RATIO} target) |",
            f"| lag commit to consumer, p50 ({lag['events']} events at {lag['rate']:.0f}/s) | "
            f"{lag['p50_ms']:.1f} ms |",
            f"| lag commit to consumer, p99 | {lag['p99_ms']:.1f} ms |",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from tests.servers import Tansu

    run_id = uuid.uuid4().hex[:8]
    var_dir = ROOT / "var" / f"bench-bridges-{run_id}"
    var_dir.mkdir(parents=True)
    os.environ["VAR_DIR"] = str(var_dir)
    tansu = Tansu(log_dir=var_dir).start()
    began = time.perf_counter()
    try:
        prefix = f"bench{run_id}."
        prepare(var_dir, tansu.bootstrap, prefix)
        events = emit(args.events, args.aggregates)
        measured = measure_throughput(args, events, tansu.bootstrap, prefix)
        latencies = measure_lag(args, tansu.bootstrap, f"{prefix}lag.")
    finally:
        tansu.stop()
    version = subprocess.run(
        [str(tansu.command()[0]), "--version"], capture_output=True, text=True
    ).stdout.strip()
    result = {
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "tansu": version.removeprefix("tansu ").strip() or "unknown",
        "aggregates": args.aggregates,
        "quick": args.quick,
        "throughput": measured,
        "lag": lag(args, latencies),
        "seconds": time.perf_counter() - began,
    }
    report(result, args)
    if not args.keep:
        shutil.rmtree(var_dir, ignore_errors=True)
    # A figure off its target is reported, not an error: speed is not a test.
    return 0


def throughput(count: int, rounds: dict[str, list[float]]) -> dict[str, Any]:
    """Events/s of each side over all its rounds; the ratio of the bridge to raw produce."""
    rate = {side: count * len(seconds) / sum(seconds) for side, seconds in rounds.items()}
    return {
        "events": count,
        "rounds": len(rounds["raw"]),
        "raw_events_per_second": rate["raw"],
        "raw_encode_events_per_second": rate["raw_encode"],
        "bridge_events_per_second": rate["bridge"],
        "ratio": rate["bridge"] / rate["raw"],
        "seconds_per_round": rounds,
    }


def lag(args: argparse.Namespace, latencies: list[float]) -> dict[str, float]:
    return {
        "events": args.lag_events,
        "rate": args.rate,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
    }


def report(result: dict[str, Any], args: argparse.Namespace) -> None:
    """Print the summary; a full run also writes it and the JSON under bench/results/."""
    text = summary(result)
    print(text)
    print(f"(run took {result['seconds']:.0f}s)")
    if not args.quick:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / f"{result['date']}-bridges.json").write_text(json.dumps(result, indent=2) + "\n")
        (RESULTS / "latest-bridges.md").write_text(text)


if __name__ == "__main__":
    sys.exit(main())
