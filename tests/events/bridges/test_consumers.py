"""``manage.py consume kafka|sqs`` as real processes against tansu and moto."""

import json

import boto3
import pytest
from confluent_kafka import Producer

from events.models import Event, InboundDeadLetter, InboundEvent
from orders.models import Order
from tests.events.bridges.factories import body, delivered, shipped_order
from tests.processes import wait_until

pytestmark = [pytest.mark.bridges, pytest.mark.django_db(transaction=True)]


def status(order: Order) -> str:
    order.refresh_from_db()
    return order.status


def test_kafka_duplicates_have_one_effect_and_a_malformed_message_is_dead_lettered(
    tansu, commands, customer
):
    first, second = shipped_order(customer), shipped_order(customer)
    producer = Producer({"bootstrap.servers": tansu.bootstrap})
    delivered_first = body(delivered(first.pk, id="parcel-1"))
    for value in (delivered_first, delivered_first, b"{broken", body(delivered(second.pk))):
        producer.produce("warehouse", key=b"k", value=value)
    assert producer.flush(10) == 0

    consumer = commands(
        "consume",
        "kafka",
        "--topic",
        "warehouse",
        "--group",
        "test-consumer",
        *("--option", "session.timeout.ms=2000", "--option", "heartbeat.interval.ms=500"),
        *("--option", "fetch.wait.max.ms=10"),
        env={"KAFKA_BOOTSTRAP_SERVERS": tansu.bootstrap},
    )

    wait_until(
        lambda: consumer.running_log() and status(second) == "fulfilled",
        timeout=60,
        message="the message after the malformed one to take effect",
    )
    assert status(first) == "fulfilled"
    assert InboundEvent.objects.filter(source="/warehouse").count() == 2
    assert Event.objects.filter(type="order.fulfilled").count() == 2
    dead = InboundDeadLetter.objects.get()
    assert (dead.transport, dead.channel, dead.body) == ("kafka", "warehouse", "{broken")
    assert dead.reason.startswith("Not JSON")
    assert consumer.terminate() == 0
    assert "Traceback" not in consumer.log()


def test_sqs_messages_from_sns_are_taken_in_once_and_deleted(moto, commands, customer):
    order = shipped_order(customer)
    sqs = boto3.client(
        "sqs",
        endpoint_url=moto.endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    queue_url = sqs.create_queue(QueueName="warehouse-in")["QueueUrl"]
    raw = body(delivered(order.pk, id="parcel-9"))
    wrapped = json.dumps({"Type": "Notification", "TopicArn": "arn", "Message": raw.decode()})
    for message in (raw.decode(), wrapped, "not an event"):
        sqs.send_message(QueueUrl=queue_url, MessageBody=message)

    consumer = commands(
        "consume",
        "sqs",
        "--queue",
        "warehouse-in",
        "--wait",
        "1",
        env={
            "AWS_ENDPOINT_URL": moto.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        },
    )

    wait_until(
        lambda: consumer.running_log() and InboundDeadLetter.objects.exists(),
        timeout=60,
        message="the three messages to be handled",
    )
    wait_until(lambda: status(order) == "fulfilled", timeout=30, message="the order fulfilled")
    assert InboundEvent.objects.count() == 1
    wait_until(
        lambda: (
            sqs.get_queue_attributes(
                QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]["ApproximateNumberOfMessages"]
            == "0"
        ),
        timeout=30,
        message="every message deleted",
    )
    assert consumer.terminate() == 0
