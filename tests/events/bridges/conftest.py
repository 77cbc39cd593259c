"""Fixtures of the bridge tests: tansu and moto as real processes, and readers of what
reached them."""

import json
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from confluent_kafka import Consumer

from tests.servers import Command, Moto, Tansu


@pytest.fixture
def tansu() -> Iterator[Tansu]:
    server = Tansu().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def moto() -> Iterator[Moto]:
    server = Moto().start()
    yield server
    server.stop()


@pytest.fixture
def commands() -> Iterator[Callable[..., Command]]:
    """Start ``manage.py`` commands; each one still running is stopped after the test."""
    started: list[Command] = []

    def start(*args: str, env: dict[str, str]) -> Command:
        command = Command(*args, env=env).start()
        started.append(command)
        return command

    yield start
    for command in started:
        command.stop()


def kafka_consumer(bootstrap: str) -> Consumer:
    """A consumer in a group of its own, from the start of each topic, tuned for tansu."""
    return Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"test-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "session.timeout.ms": 2000,
            "heartbeat.interval.ms": 500,
            "fetch.wait.max.ms": 10,
        }
    )


def read_topic(bootstrap: str, topic: str, *, until: Callable[[list], bool], timeout: float = 30):  # type: ignore[no-untyped-def]
    """Every message of ``topic`` until ``until(messages)`` holds; fails after ``timeout``."""
    consumer = kafka_consumer(bootstrap)
    consumer.subscribe([topic])
    messages: list = []
    deadline = time.monotonic() + timeout
    try:
        while not until(messages):
            if time.monotonic() > deadline:
                raise AssertionError(f"Timed out reading {topic}: {len(messages)} messages")
            message = consumer.poll(0.2)
            if message is not None and not message.error():
                messages.append(message)
    finally:
        consumer.close()
    return messages


def ids_of(messages: list) -> list[str]:
    return [json.loads(m.value())["id"] for m in messages]
