import pytest

from events.bridges.inbound import InboundMessage, InboundOutcome, inbound_receive, unwrap_sns
from events.models import Delivery, Event, InboundDeadLetter, InboundEvent
from orders.models import Order
from tests.events.bridges.factories import body, delivered, shipped_order

pytestmark = pytest.mark.django_db


def message(raw: bytes, reference: str = "0:1") -> InboundMessage:
    return InboundMessage(transport="kafka", channel="warehouse", reference=reference, body=raw)


def test_a_delivered_shipment_fulfills_the_shipped_order_with_its_event_in_the_timeline(
    customer, broker
):
    order = shipped_order(customer)

    outcome = inbound_receive(message=message(body(delivered(order.pk, id="d-1"))))

    assert outcome == InboundOutcome.ACCEPTED
    order.refresh_from_db()
    assert order.status == Order.Status.FULFILLED
    types = list(Event.objects.for_aggregate("order", order.pk).values_list("type", flat=True))
    assert types == ["shipment.delivered", "order.fulfilled"]
    inbound = InboundEvent.objects.get()
    assert (inbound.source, inbound.external_id, inbound.channel) == (
        "/warehouse",
        "d-1",
        "warehouse",
    )
    assert Delivery.objects.get(subscriber="orders.complete_on_delivery").status == "succeeded"


def test_the_same_external_event_delivered_twice_has_one_effect(customer, broker):
    order = shipped_order(customer)
    raw = body(delivered(order.pk, id="d-1"))

    first = inbound_receive(message=message(raw, "0:1"))
    second = inbound_receive(message=message(raw, "0:2"))

    assert (first, second) == (InboundOutcome.ACCEPTED, InboundOutcome.DUPLICATE)
    assert InboundEvent.objects.count() == 1
    assert Event.objects.filter(type="shipment.delivered").count() == 1
    assert Event.objects.filter(type="order.fulfilled").count() == 1


def test_the_same_id_from_another_source_is_another_event(customer, broker):
    order = shipped_order(customer)

    inbound_receive(message=message(body(delivered(order.pk, id="d-1"))))
    outcome = inbound_receive(message=message(body(delivered(order.pk, id="d-1", source="/other"))))

    assert outcome == InboundOutcome.ACCEPTED
    assert InboundEvent.objects.count() == 2
    assert Event.objects.filter(type="order.fulfilled").count() == 1  # fulfilled once


def test_a_malformed_message_is_a_dead_letter_with_its_reason_and_nothing_else(customer, broker):
    order = shipped_order(customer)

    outcome = inbound_receive(message=message(b'{"specversion": "1.0", "id": "x"', "3:9"))

    assert outcome == InboundOutcome.DEAD_LETTERED
    dead = InboundDeadLetter.objects.get()
    assert (dead.transport, dead.channel, dead.reference) == ("kafka", "warehouse", "3:9")
    assert dead.body == '{"specversion": "1.0", "id": "x"'
    assert dead.reason.startswith("Not JSON")
    assert not Event.objects.exists()
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED


def test_an_event_whose_effect_fails_is_stored_once_and_its_delivery_left_to_retry(
    customer, broker
):
    order = Order.objects.create(customer=customer, status="paid", total="1.00", payment_token="t")

    outcome = inbound_receive(message=message(body(delivered(order.pk))))

    assert outcome == InboundOutcome.ACCEPTED
    delivery = Delivery.objects.get(subscriber="orders.complete_on_delivery")
    assert delivery.status == "failed"
    assert "not shipped" in delivery.last_error
    order.refresh_from_db()
    assert order.status == "paid"


def test_an_sns_notification_is_unwrapped_and_a_raw_message_kept_as_it_is():
    raw = body(delivered(1))
    wrapped = body({"Type": "Notification", "TopicArn": "arn", "Message": raw.decode()})

    assert unwrap_sns(wrapped) == raw
    assert unwrap_sns(raw) == raw
    assert unwrap_sns(b"not json") == b"not json"
