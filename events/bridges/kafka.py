"""The Kafka bridge: one topic per aggregate type, keyed by aggregate id, CloudEvents values.

The producer is idempotent with ``acks=all``: Kafka keeps each partition's messages in
the order produced and drops the producer's own retries, and a batch counts as published
only when every message's delivery report came back without an error.
"""

import logging
import threading
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from ..conf import events_settings
from . import cloudevents
from .cloudevents import StoredEvent
from .config import BridgeConfig
from .runner import Interrupted, PublishFailed, Unreachable

logger = logging.getLogger(__name__)

PRODUCER_DEFAULTS: dict[str, Any] = {
    "enable.idempotence": True,
    "acks": "all",
    "linger.ms": 5,
    # A message not acknowledged by then fails its batch, which is published again.
    "message.timeout.ms": 10000,
    "reconnect.backoff.max.ms": 1000,
    # librdkafka logs every failed reconnect on stderr; the error callback below says it
    # once per outage instead. Raise it through EVENTS["KAFKA"] to debug the client.
    "log_level": 2,
}
CONNECT_TIMEOUT_SECONDS = 5.0


def client_config(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """librdkafka options: the shared ``EVENTS["KAFKA"]`` ones, then ``extra``."""
    config = {**events_settings.KAFKA, **(extra or {})}
    if not config.get("bootstrap.servers"):
        raise LookupError(
            "No Kafka to talk to: set KAFKA_BOOTSTRAP_SERVERS "
            "(EVENTS['KAFKA']['bootstrap.servers'])."
        )
    return config


def message_headers(cloudevent: dict[str, Any]) -> list[tuple[str, str]]:
    """The envelope's fields as headers, after the content type of the structured value.

    The values are ``str``: the client writes them as UTF-8, as ``.encode()`` would.
    """
    headers = [
        ("content-type", cloudevents.CONTENT_TYPE),
        ("id", cloudevent["id"]),
        ("type", cloudevent["type"]),
        ("version", str(cloudevent["eventversion"])),
        ("aggregate_type", cloudevent["aggregatetype"]),
        ("aggregate_id", cloudevent["aggregateid"]),
        ("sequence", str(cloudevent["sequence"])),
        ("occurred_at", cloudevent["time"]),
        ("correlation_id", cloudevent["correlationid"]),
    ]
    if "causationid" in cloudevent:
        headers.append(("causation_id", cloudevent["causationid"]))
    return headers


class Deliveries:
    """The producer's delivery-report callback: counts a batch's acknowledgements and errors.

    One callback for the producer rather than one per message: librdkafka reports each
    message once, and the batch is published only when every one came back acknowledged.
    """

    def __init__(self) -> None:
        self.start()

    def start(self) -> None:
        self.acknowledged = 0
        self.failures: list[str] = []

    def __call__(self, error: KafkaError | None, message: Message) -> None:
        if error is None:
            self.acknowledged += 1
        else:
            self.failures.append(error.str())


class ClientErrors:
    """librdkafka's error callback: logs when the cluster goes away, once, not per retry."""

    def __init__(self, description: str) -> None:
        self.description = description
        self.down = False

    def __call__(self, error: KafkaError) -> None:
        if error.fatal():
            logger.error("%s: fatal producer error: %s", self.description, error.str())
        elif error.code() in (KafkaError._ALL_BROKERS_DOWN, KafkaError._TRANSPORT):
            if not self.down:
                logger.warning("%s is unreachable: %s", self.description, error.str())
            self.down = True
        else:
            logger.warning("%s: %s", self.description, error.str())


class KafkaPublisher:
    def __init__(self, bridge: BridgeConfig) -> None:
        self.bridge = bridge
        self.config = {
            **PRODUCER_DEFAULTS,
            **client_config(bridge.options["producer"]),
        }
        self.description = f"Kafka at {self.config['bootstrap.servers']}"
        self.errors = ClientErrors(self.description)
        self.deliveries = Deliveries()
        self.producer: Producer | None = None

    def _producer(self) -> Producer:
        if self.producer is None:
            self.producer = Producer(
                {**self.config, "error_cb": self.errors, "on_delivery": self.deliveries}
            )
        return self.producer

    def connect(self) -> None:
        try:
            self._producer().list_topics(timeout=CONNECT_TIMEOUT_SECONDS)
        except KafkaException as exc:
            self.reset()
            raise Unreachable(f"{self.description} does not answer ({exc.args[0].str()})") from None

    def topic(self, event: StoredEvent) -> str:
        return f"{self.bridge.options['topic_prefix']}{event.aggregate_type}"

    def publish(self, events: list[StoredEvent], stop: threading.Event) -> None:
        producer = self._producer()
        self.deliveries.start()
        source = events_settings.CLOUDEVENTS_SOURCE
        topics: dict[str, str] = {}
        for event in events:
            topic = topics.get(event.aggregate_type)
            if topic is None:
                topic = topics[event.aggregate_type] = self.topic(event)
            cloudevent = cloudevents.to_cloudevent(event, source=source)
            self._produce(
                producer,
                topic,
                key=event.aggregate_id,
                value=cloudevents.encode(cloudevent),
                headers=message_headers(cloudevent),
            )
        self._wait_for_acknowledgements(producer, len(events), stop)

    def _produce(self, producer: Producer, topic: str, **message: Any) -> None:
        while True:
            try:
                producer.produce(topic, **message)
                return
            except BufferError:  # the local queue is full: let deliveries drain it
                producer.poll(0.1)

    def _wait_for_acknowledgements(
        self, producer: Producer, produced: int, stop: threading.Event
    ) -> None:
        waiting_logged = False
        while True:
            pending = producer.flush(1.0)
            if self.deliveries.failures:
                raise PublishFailed(self.deliveries.failures[0])
            if not pending:
                if self.deliveries.acknowledged != produced:
                    raise PublishFailed(
                        f"{self.deliveries.acknowledged} of {produced} messages acknowledged"
                    )
                if self.errors.down:
                    self.errors.down = False
                    logger.info("%s answers again", self.description)
                return
            if stop.is_set():
                raise Interrupted
            if not waiting_logged:
                logger.warning(
                    "%s has not acknowledged %s messages yet: waiting", self.description, pending
                )
                waiting_logged = True

    def reset(self) -> None:
        if self.producer is not None:
            self.producer.purge()
            self.producer.flush(0)
            self.producer = None

    def close(self) -> None:
        if self.producer is not None:
            self.producer.flush(5)
            self.producer = None
