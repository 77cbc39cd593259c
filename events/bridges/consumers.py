"""Inbound consumers: a Kafka consumer group or an SQS queue, one message at a time.

Each message is taken in (``inbound_receive``) before its offset is committed or it is
deleted, so a consumer killed in between gets it again, and the inbox drops it. A
database failure leaves the message where it is and tries again after a pause; a broker
that cannot be reached is waited for with a clear log line.
"""

import logging
import threading
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from confluent_kafka import Consumer, KafkaException, Message, TopicPartition
from django.db import DatabaseError, close_old_connections

from .inbound import InboundMessage, inbound_receive, unwrap_sns
from .kafka import CONNECT_TIMEOUT_SECONDS, client_config
from .runner import Backoff
from .sns import aws_client

logger = logging.getLogger(__name__)

CONSUMER_DEFAULTS: dict[str, Any] = {
    "enable.auto.commit": False,
    "auto.offset.reset": "earliest",
    "reconnect.backoff.max.ms": 1000,
    "log_level": 2,  # as the producer's: failed reconnects are reported once, below
}


class KafkaInbound:
    def __init__(
        self,
        *,
        topics: list[str],
        group: str,
        stop: threading.Event,
        options: dict[str, str] | None = None,
    ) -> None:
        self.topics = topics
        self.stop = stop
        self.config = {
            **CONSUMER_DEFAULTS,
            **client_config({"group.id": group, **(options or {})}),
        }
        self.description = f"Kafka at {self.config['bootstrap.servers']}"
        self.backoff = Backoff()

    def run(self) -> None:
        consumer = self._connect()
        if consumer is None:
            return
        consumer.subscribe(self.topics)
        logger.info("Consuming %s from %s", ", ".join(self.topics), self.description)
        try:
            while not self.stop.is_set():
                message = consumer.poll(0.5)
                if message is None:
                    continue
                if message.error():
                    logger.warning("%s: %s", self.description, message.error().str())
                    continue
                self._handle(consumer, message)
        finally:
            consumer.close()
        logger.info("Consumer of %s stopped", ", ".join(self.topics))

    def _connect(self) -> Consumer | None:
        while not self.stop.is_set():
            consumer = Consumer(self.config)
            try:
                consumer.list_topics(timeout=CONNECT_TIMEOUT_SECONDS)
                return consumer
            except KafkaException as exc:
                consumer.close()
                delay = self.backoff.next()
                logger.warning(
                    "%s does not answer (%s); trying again in %.0fs",
                    self.description,
                    exc.args[0].str(),
                    delay,
                )
                self.stop.wait(delay)
        return None

    def _handle(self, consumer: Consumer, message: Message) -> None:
        partition, offset = message.partition(), message.offset()
        try:
            inbound_receive(
                message=InboundMessage(
                    transport="kafka",
                    channel=message.topic(),
                    reference=f"{partition}:{offset}",
                    body=message.value() or b"",
                    headers={
                        k: (v or b"").decode(errors="replace") for k, v in message.headers() or []
                    },
                )
            )
        except DatabaseError as exc:
            logger.warning(
                "Database error on %s %s:%s (%s); retrying", message.topic(), partition, offset, exc
            )
            close_old_connections()
            consumer.seek(TopicPartition(message.topic(), partition, offset))
            self.stop.wait(self.backoff.next())
            return
        self.backoff.reset()
        try:
            consumer.commit(message=message, asynchronous=False)
        except KafkaException as exc:  # it comes again and is dropped as a duplicate
            logger.warning("Could not commit %s %s:%s: %s", message.topic(), partition, offset, exc)


class SqsInbound:
    def __init__(self, *, queue: str, stop: threading.Event, wait_seconds: int = 5) -> None:
        self.queue = queue
        self.stop = stop
        self.wait_seconds = wait_seconds
        self.client = aws_client("sqs")
        self.description = f"SQS queue {queue} at {self.client.meta.endpoint_url}"
        self.backoff = Backoff()

    def run(self) -> None:
        queue_url = self._connect()
        if queue_url is None:
            return
        logger.info("Consuming %s", self.description)
        while not self.stop.is_set():
            try:
                answer = self.client.receive_message(
                    QueueUrl=queue_url,
                    MaxNumberOfMessages=10,
                    WaitTimeSeconds=self.wait_seconds,
                    MessageAttributeNames=["All"],
                )
            except (BotoCoreError, ClientError) as exc:
                self._pause(f"{self.description} does not answer ({exc})")
                continue
            for message in answer.get("Messages", []):
                if not self._handle(queue_url, message):
                    break
        self.client.close()
        logger.info("Consumer of %s stopped", self.queue)

    def _connect(self) -> str | None:
        while not self.stop.is_set():
            try:
                if self.queue.startswith(("http://", "https://")):
                    self.client.get_queue_attributes(QueueUrl=self.queue)
                    return self.queue
                return self.client.get_queue_url(QueueName=self.queue)["QueueUrl"]
            except (BotoCoreError, ClientError) as exc:
                self._pause(f"{self.description} does not answer ({exc})")
        return None

    def _handle(self, queue_url: str, message: dict[str, Any]) -> bool:
        """Take one message in and delete it; False to stop this batch and receive again."""
        attributes = {
            name: value.get("StringValue", "")
            for name, value in message.get("MessageAttributes", {}).items()
        }
        try:
            inbound_receive(
                message=InboundMessage(
                    transport="sqs",
                    channel=self.queue,
                    reference=message["MessageId"],
                    body=unwrap_sns(message["Body"].encode()),
                    headers=attributes,
                )
            )
        except DatabaseError as exc:
            close_old_connections()  # the message comes back after its visibility timeout
            self._pause(f"Database error on message {message['MessageId']} ({exc})")
            return False
        try:
            self.client.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        except (BotoCoreError, ClientError) as exc:  # it comes again and is dropped
            logger.warning("Could not delete message %s: %s", message["MessageId"], exc)
        self.backoff.reset()
        return True

    def _pause(self, reason: str) -> None:
        delay = self.backoff.next()
        logger.warning("%s; trying again in %.0fs", reason, delay)
        self.stop.wait(delay)
