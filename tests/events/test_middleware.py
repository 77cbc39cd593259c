"""The request id: kept when it is a UUID, replaced when it is not, echoed, and the cause."""

import logging
import uuid

import pytest

from events.middleware import REQUEST_ID_HEADER, request_id_from
from events.models import Command, Event
from tests.factories import order_body

pytestmark = pytest.mark.django_db


def test_a_uuid_sent_as_the_request_id_is_kept_and_echoed(client):
    sent = str(uuid.uuid4())
    response = client.get("/healthz", headers={REQUEST_ID_HEADER: sent})
    assert response[REQUEST_ID_HEADER] == sent


def test_a_request_id_of_32_hex_digits_is_echoed_in_its_hyphenated_form(client):
    sent = uuid.uuid4()
    response = client.get("/healthz", headers={REQUEST_ID_HEADER: sent.hex.upper()})
    assert response[REQUEST_ID_HEADER] == str(sent)


def test_a_request_without_an_id_gets_a_new_one(client):
    first = client.get("/healthz")[REQUEST_ID_HEADER]
    second = client.get("/healthz")[REQUEST_ID_HEADER]
    assert uuid.UUID(first) != uuid.UUID(second)


@pytest.mark.parametrize(
    "garbage",
    ["", "not-a-uuid", "x" * 5000, "12345678-1234-1234-1234-1234567890a\n", f"{{{uuid.uuid4()}}}"],
)
def test_a_request_id_that_is_not_a_uuid_is_replaced_not_refused(client, caplog, garbage):
    with caplog.at_level(logging.WARNING, logger="events.requests"):
        response = client.get("/healthz", headers={REQUEST_ID_HEADER: garbage})
    assert response.status_code == 200
    used = response[REQUEST_ID_HEADER]
    assert str(uuid.UUID(used)) == used
    assert used != garbage
    assert "Replaced an X-Request-ID" in caplog.text
    assert len(caplog.text) < 1000  # a huge header is not copied into the log


def test_request_id_from_tells_a_replacement_from_a_kept_id():
    kept = uuid.uuid4()
    assert request_id_from(str(kept)) == (kept, False)
    assert request_id_from(None)[1] is False
    assert request_id_from("nope")[1] is True


def test_the_request_id_is_the_correlation_and_cause_of_what_the_request_emits(
    customer_client, catalog
):
    request_id = uuid.uuid4()
    response = customer_client.post(
        "/api/orders/",
        order_body(("MUG-LOGO", 1)),
        content_type="application/json",
        headers={REQUEST_ID_HEADER: str(request_id)},
    )
    assert response.status_code == 201, response.content
    placed = Event.objects.get(aggregate_id=str(response.json()["id"]), type="order.placed")
    assert placed.correlation_id == request_id
    assert placed.causation_id == request_id
    command = Command.objects.get(pk=request_id)
    assert command.name == "POST /api/orders/"
    assert command.correlation_id == request_id


def test_a_request_that_emits_nothing_is_not_recorded(client):
    request_id = uuid.uuid4()
    client.get("/healthz", headers={REQUEST_ID_HEADER: str(request_id)})
    assert not Command.objects.filter(pk=request_id).exists()
