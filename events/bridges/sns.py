"""The Amazon SNS bridge: CloudEvents published to one topic, envelope fields as attributes.

On a FIFO topic (its ARN ends in ``.fifo``) the aggregate id is the message group, so one
aggregate's events stay in order, and the event id is the deduplication id, so SNS drops
a batch published again after a crash.
"""

import json
import threading
from collections.abc import Iterator
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ..conf import events_settings
from . import cloudevents
from .cloudevents import StoredEvent
from .config import BridgeConfig
from .runner import Interrupted, PublishFailed, Unreachable

BATCH = 10  # SNS takes at most ten messages per PublishBatch
CLIENT_CONFIG = Config(
    retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=15
)


def aws_client(service: str) -> Any:
    """A boto3 client with the shared ``EVENTS["AWS"]`` options (region, endpoint)."""
    return boto3.client(service, config=CLIENT_CONFIG, **events_settings.AWS)


def message_attributes(cloudevent: dict[str, Any]) -> dict[str, dict[str, str]]:
    fields = {"content_type": cloudevents.CONTENT_TYPE, **cloudevents.envelope_fields(cloudevent)}
    return {name: {"DataType": "String", "StringValue": value} for name, value in fields.items()}


def _chunks(events: list[StoredEvent]) -> Iterator[list[StoredEvent]]:
    for start in range(0, len(events), BATCH):
        yield events[start : start + BATCH]


class SnsPublisher:
    def __init__(self, bridge: BridgeConfig) -> None:
        self.topic_arn: str = bridge.options["topic_arn"]
        self.fifo = self.topic_arn.endswith(".fifo")
        self.client = aws_client("sns")
        self.description = f"SNS topic {self.topic_arn} at {self.client.meta.endpoint_url}"

    def connect(self) -> None:
        try:
            self.client.get_topic_attributes(TopicArn=self.topic_arn)
        except (BotoCoreError, ClientError) as exc:
            raise Unreachable(f"{self.description} does not answer ({exc})") from None

    def entry(self, index: int, event: StoredEvent) -> dict[str, Any]:
        cloudevent = cloudevents.to_cloudevent(event)
        entry = {
            "Id": str(index),
            "Message": json.dumps(cloudevent, separators=(",", ":")),
            "MessageAttributes": message_attributes(cloudevent),
        }
        if self.fifo:
            entry["MessageGroupId"] = event.aggregate_id
            entry["MessageDeduplicationId"] = str(event.id)
        return entry

    def publish(self, events: list[StoredEvent], stop: threading.Event) -> None:
        for chunk in _chunks(events):
            if stop.is_set():
                raise Interrupted
            entries = [self.entry(index, event) for index, event in enumerate(chunk)]
            try:
                answer = self.client.publish_batch(
                    TopicArn=self.topic_arn, PublishBatchRequestEntries=entries
                )
            except (BotoCoreError, ClientError) as exc:
                raise PublishFailed(str(exc)) from None
            if answer.get("Failed"):
                failed = answer["Failed"][0]
                raise PublishFailed(f"{failed.get('Code')}: {failed.get('Message', '')}")

    def reset(self) -> None:
        """boto3 reconnects by itself: nothing to drop."""

    def close(self) -> None:
        self.client.close()
