import json

import pytest
from django.db import transaction

from events.bridges import cloudevents
from events.bridges.stored import stored_event
from events.services import event_emit
from tests.events.bridges.factories import body, delivered

pytestmark = pytest.mark.django_db


def stored(event) -> cloudevents.StoredEvent:  # type: ignore[no-untyped-def]
    return stored_event(event)


def test_an_event_becomes_a_structured_cloudevent_with_the_envelope_as_extensions(no_fast_path):
    with transaction.atomic():
        event = event_emit(type="probe.tick", aggregate_id="a-1", payload={"n": 1})

    cloudevent = cloudevents.to_cloudevent(stored(event))

    assert cloudevent["specversion"] == "1.0"
    assert cloudevent["id"] == str(event.id)
    assert cloudevent["type"] == "probe.tick"
    assert cloudevent["source"] == "/fulfillment"
    assert cloudevent["data"] == {"n": 1}
    assert (cloudevent["aggregatetype"], cloudevent["aggregateid"]) == ("probe", "a-1")
    assert cloudevent["sequence"] == 1
    assert cloudevent["correlationid"] == str(event.correlation_id)
    assert "causationid" not in cloudevent
    assert json.loads(cloudevents.encode(cloudevent)) == cloudevent
    assert cloudevents.envelope_fields(cloudevent)["sequence"] == "1"


def test_an_old_version_goes_out_upcast_to_the_latest(no_fast_path):
    with transaction.atomic():
        event = event_emit(
            type="order.placed",
            version=1,
            aggregate_id=7,
            payload={
                "order_id": 7,
                "customer_id": 1,
                "total": "1.00",
                "lines": [{"sku": "A", "quantity": 1}],
            },
        )

    cloudevent = cloudevents.to_cloudevent(stored(event))

    assert cloudevent["eventversion"] == 2
    assert cloudevent["data"]["currency"] == "EUR"


def test_a_valid_inbound_cloudevent_is_decoded():
    external = cloudevents.decode(body(delivered(5, id="evt-1")))

    assert (external.source, external.id, external.type) == (
        "/warehouse",
        "evt-1",
        "shipment.delivered",
    )
    assert external.aggregate_id == "5"
    assert external.payload["order_id"] == 5


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "Not JSON"),
        (b"[1, 2]", "not an object"),
        (body({"specversion": "1.0", "type": "shipment.delivered"}), "missing id, source"),
        (body(delivered(5, specversion="0.3")), "Unsupported specversion"),
        (body(delivered(5, type="parcel.lost")), "not in the event catalog"),
        (body(delivered(5, eventversion=9)), "Unknown version 9"),
        (body(delivered(5, data={"tracking_number": "x"})), "order_id"),
        (body(delivered(5, data="text")), "data must be a JSON object"),
        (body(delivered(5, subject=None)), "No aggregate"),
    ],
)
def test_a_message_that_breaks_a_rule_is_refused_with_the_reason(raw, reason):
    with pytest.raises(cloudevents.InvalidMessage, match=reason):
        cloudevents.decode(raw)


def test_the_value_is_compact_utf8_json_and_integers_past_64_bits_stay_exact(no_fast_path):
    with transaction.atomic():
        event = event_emit(type="probe.tick", aggregate_id="a-1", payload={"n": 1, "é": "ü"})
    cloudevent = cloudevents.to_cloudevent(stored(event))

    value = cloudevents.encode(cloudevent)

    assert json.loads(value) == cloudevent
    assert b'"data":{"n":1,"\xc3\xa9":"\xc3\xbc"}' in value
    cloudevent["data"]["n"] = 2**70
    assert json.loads(cloudevents.encode(cloudevent))["data"]["n"] == 2**70
