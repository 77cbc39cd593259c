"""Placing an order: what it writes, idempotency, and atomic emission."""

from collections.abc import Callable

import pytest
from django.db import transaction

from events import dispatch, subscriptions
from events.models import AggregateStream, Event, OutboxEvent
from events.services import EmitOutsideTransaction, event_emit
from orders.models import Order, OrderLine
from orders.services import LineInput, order_place
from orders.services.placement import IDEMPOTENCY_KEY_REUSED
from tests.factories import order_body


class Boom(Exception):
    pass


@pytest.fixture
def published(broker) -> Callable[[], list[str]]:  # type: ignore[no-untyped-def]
    """Event ids handed to the broker so far, once per subscriber (the broker records them)."""
    return lambda: [message["event_id"] for message in broker.of(dispatch.DELIVER)]


def place(client, body: dict, **headers: str):  # type: ignore[no-untyped-def]
    return client.post("/api/orders/", body, format="json", headers=headers)


@pytest.mark.django_db
def test_placing_an_order_writes_the_order_its_lines_and_one_placed_event(
    customer_client, customer, catalog
):
    response = place(customer_client, order_body(("MUG-LOGO", 2), ("CAP-NAVY", 1)))

    assert response.status_code == 201, response.content
    data = response.json()
    expected_total = catalog["MUG-LOGO"].price * 2 + catalog["CAP-NAVY"].price
    assert data["status"] == "pending"
    assert data["total"] == str(expected_total)  # a decimal string, never a float
    assert [(line["sku"], line["quantity"]) for line in data["lines"]] == [
        ("MUG-LOGO", 2),
        ("CAP-NAVY", 1),
    ]

    order = Order.objects.get(pk=data["id"])
    assert (order.customer, order.status, order.total) == (customer, "pending", expected_total)
    assert list(
        OrderLine.objects.filter(order=order).values_list("sku", "quantity", "unit_price")
    ) == [
        ("MUG-LOGO", 2, catalog["MUG-LOGO"].price),
        ("CAP-NAVY", 1, catalog["CAP-NAVY"].price),
    ]

    event = Event.objects.get()
    assert (event.type, event.aggregate_type, event.aggregate_id, event.sequence) == (
        "order.placed",
        "order",
        str(order.pk),
        1,
    )
    assert event.payload["total"] == data["total"]
    assert event.payload["customer_id"] == customer.pk
    assert event.payload["currency"] == "EUR"
    outbox = OutboxEvent.objects.get()
    assert outbox.event_id == event.id
    assert outbox.published_at is None  # published only after commit


@pytest.mark.django_db
def test_the_same_idempotency_key_twice_places_one_order_and_replays_the_answer(
    customer_client, catalog
):
    body = order_body(("MUG-LOGO", 1))

    first = place(customer_client, body, **{"Idempotency-Key": "checkout-42"})
    second = place(customer_client, body, **{"Idempotency-Key": "checkout-42"})

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1
    assert Event.objects.count() == 1


@pytest.mark.django_db
def test_reusing_an_idempotency_key_for_a_different_order_is_a_conflict(customer_client, catalog):
    place(customer_client, order_body(("MUG-LOGO", 1)), **{"Idempotency-Key": "checkout-42"})

    response = place(
        customer_client, order_body(("MUG-LOGO", 5)), **{"Idempotency-Key": "checkout-42"}
    )

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert response.json()["detail"] == IDEMPOTENCY_KEY_REUSED
    assert Order.objects.count() == 1
    assert Event.objects.count() == 1


@pytest.mark.django_db
def test_different_customers_may_use_the_same_idempotency_key(
    customer_client, other_client, customer, other_customer, catalog
):
    body = order_body(("MUG-LOGO", 1))

    mine = place(customer_client, body, **{"Idempotency-Key": "checkout-42"})
    theirs = place(other_client, body, **{"Idempotency-Key": "checkout-42"})

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in theirs.headers
    assert mine.json()["id"] != theirs.json()["id"]
    assert Order.objects.get(pk=mine.json()["id"]).customer == customer
    assert Order.objects.get(pk=theirs.json()["id"]).customer == other_customer


@pytest.mark.django_db(transaction=True)
def test_an_order_placed_in_a_rolled_back_transaction_leaves_nothing(customer, catalog, published):
    with pytest.raises(Boom), transaction.atomic():
        order, created = order_place(
            customer=customer, lines=[LineInput("MUG-LOGO", 1)], payment_token="tok_ok"
        )
        assert created and Event.objects.filter(aggregate_id=str(order.pk)).exists()
        raise Boom

    assert Order.objects.count() == 0
    assert OrderLine.objects.count() == 0
    assert Event.objects.count() == 0
    assert OutboxEvent.objects.count() == 0
    assert AggregateStream.objects.count() == 0
    assert published() == []


@pytest.mark.django_db(transaction=True)
def test_an_order_placed_in_a_committed_transaction_is_published_after_commit(
    customer, catalog, published
):
    with transaction.atomic():
        order, _ = order_place(
            customer=customer, lines=[LineInput("MUG-LOGO", 1)], payment_token="tok_ok"
        )
        assert published() == []  # nothing leaves the process before the commit

    event = Event.objects.get(aggregate_id=str(order.pk))
    # Once per subscriber of order.placed.
    assert published() == [str(event.id)] * len(subscriptions.for_event_type("order.placed"))
    assert OutboxEvent.objects.get(event=event).published_at is not None


@pytest.mark.django_db(transaction=True)
def test_emitting_outside_a_transaction_is_refused(customer, catalog):
    payload = {
        "order_id": 1,
        "customer_id": customer.pk,
        "lines": [{"sku": "MUG-LOGO", "quantity": 1}],
        "total": "12.50",
        "currency": "EUR",
    }

    with pytest.raises(EmitOutsideTransaction):
        event_emit(type="order.placed", aggregate_id=1, payload=payload)

    assert Event.objects.count() == 0
    assert OutboxEvent.objects.count() == 0
