"""The SNS bridge as a real process against moto: SNS to a FIFO SQS queue, raw delivery."""

import json

import boto3
import pytest

from events.models import BridgeCheckpoint
from tests.events.bridges.factories import emit_ticks
from tests.processes import wait_until

pytestmark = [pytest.mark.bridges, pytest.mark.django_db(transaction=True)]

CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def fifo_topic_into_queue(sns, sqs) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A FIFO topic delivering raw messages to a FIFO queue: (topic ARN, queue URL)."""
    topic = sns.create_topic(
        Name="events.fifo",
        Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "false"},
    )["TopicArn"]
    queue_url = sqs.create_queue(QueueName="out.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    return topic, queue_url


def test_events_reach_a_fifo_topic_grouped_by_aggregate_with_the_envelope_as_attributes(
    moto, commands, no_fast_path
):
    client = {"endpoint_url": moto.endpoint, "region_name": "us-east-1", **CREDENTIALS}
    sns, sqs = boto3.client("sns", **client), boto3.client("sqs", **client)
    topic, queue_url = fifo_topic_into_queue(sns, sqs)
    events = emit_ticks("a", 4) + emit_ticks("b", 3)

    bridge = commands(
        "bridge",
        "sns",
        env={
            "EVENTS_SNS_TOPIC_ARN": topic,
            "AWS_ENDPOINT_URL": moto.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        },
    )
    received: list[dict] = []

    def all_received() -> bool:
        bridge.running_log()
        answer = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            AttributeNames=["All"],
        )
        for message in answer.get("Messages", []):
            received.append(message)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return len({json.loads(m["Body"])["id"] for m in received}) == len(events)

    wait_until(all_received, timeout=60, message="every event in the queue")

    bodies = [json.loads(m["Body"]) for m in received]
    assert {b["id"] for b in bodies} == {str(e.id) for e in events}
    for aggregate, count in (("a", 4), ("b", 3)):
        sequences = [b["sequence"] for b in bodies if b["aggregateid"] == aggregate]
        assert sequences == list(range(1, count + 1))
    first = received[0]
    assert first["Attributes"]["MessageGroupId"] == json.loads(first["Body"])["aggregateid"]
    assert first["Attributes"]["MessageDeduplicationId"] == json.loads(first["Body"])["id"]
    attributes = first["MessageAttributes"]
    assert attributes["type"]["StringValue"] == "probe.tick"
    assert attributes["content_type"]["StringValue"] == "application/cloudevents+json"
    assert BridgeCheckpoint.objects.get(name="sns").published == len(events)
    assert bridge.terminate() == 0
