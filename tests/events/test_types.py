"""Event types: schema validation on emit, upcasting on read, the catalog, the append-only store."""

import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from events import types
from events.envelope import Envelope
from events.models import AggregateStream, Event, OutboxEvent
from events.models.store import AppendOnlyError
from events.services import event_emit
from orders.services import LineInput, order_place

CONTRACT_TYPES = {
    "order.placed",
    "stock.reserved",
    "stock.released",
    "payment.captured",
    "payment.declined",
    "payment.refunded",
    "shipment.created",
    "order.fulfilled",
    "order.cancelled",
    "order.failed",
}

PLACED_V1 = {
    "order_id": 4242,
    "customer_id": 7,
    "lines": [{"sku": "MUG-LOGO", "quantity": 2, "unit_price": "12.50"}],
    "total": "25.00",
}
PLACED_V2 = {**PLACED_V1, "currency": "EUR"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "where"),
    [
        ({**PLACED_V2, "order_id": "4242"}, "order_id"),
        ({**PLACED_V2, "lines": [{"sku": "MUG-LOGO", "quantity": 0}]}, "lines/0/quantity"),
        ({**PLACED_V2, "currency": "euro"}, "currency"),
        (PLACED_V1, "(root)"),  # v1 shape emitted as the latest version: currency missing
    ],
    ids=["order_id not an integer", "quantity zero", "bad currency", "currency missing"],
)
def test_emitting_a_payload_that_breaks_its_schema_raises_and_writes_nothing(payload, where):
    with pytest.raises(types.InvalidPayload) as invalid, transaction.atomic():
        event_emit(type="order.placed", aggregate_id=4242, payload=payload)

    refused = invalid.value
    assert (refused.event_type, refused.version, refused.path) == ("order.placed", 2, where)
    assert str(refused) == types.INVALID_PAYLOAD.format(
        event_type="order.placed", version=2, path=where, detail=refused.detail
    )
    assert Event.objects.count() == 0
    assert OutboxEvent.objects.count() == 0
    assert AggregateStream.objects.count() == 0


@pytest.mark.django_db
def test_emitting_an_undeclared_type_raises(customer):
    with pytest.raises(types.UnknownEventType), transaction.atomic():
        event_emit(type="order.teleported", aggregate_id=1, payload={"order_id": 1})

    assert Event.objects.count() == 0


@pytest.fixture
def stored_v1_event(db) -> Event:
    """An ``order.placed`` written before currency existed, as an old release stored it."""
    types.validate(types.get("order.placed", 1), PLACED_V1)
    return Event.objects.create(
        type="order.placed",
        version=1,
        aggregate_type="order",
        aggregate_id="4242",
        sequence=1,
        correlation_id=uuid.uuid4(),
        payload=PLACED_V1,
    )


def test_an_old_version_is_upcast_when_read(stored_v1_event):
    envelope = Envelope.from_event(stored_v1_event)

    assert envelope.version == types.get("order.placed").version == 2
    assert envelope.payload == {**PLACED_V1, "currency": "EUR"}
    types.validate(types.get("order.placed", 2), envelope.payload)
    stored = Event.objects.get(pk=stored_v1_event.pk)
    assert (stored.version, stored.payload) == (1, PLACED_V1)  # the store is not rewritten


def test_the_event_log_api_serves_an_old_version_upcast(staff_client, stored_v1_event):
    response = staff_client.get("/api/events/", {"aggregate_id": "4242"})

    assert response.status_code == 200
    [envelope] = response.json()["results"]
    assert envelope["id"] == str(stored_v1_event.id)
    assert envelope["version"] == 2
    assert envelope["payload"]["currency"] == "EUR"
    assert envelope["payload"]["total"] == PLACED_V1["total"]


def test_the_type_catalog_lists_every_contract_type_with_its_schema(staff_client):
    response = staff_client.get("/api/event-types/")

    assert response.status_code == 200
    catalog = {(t["name"], t["version"]): t for t in response.json()}
    assert {name for name, _ in catalog} >= CONTRACT_TYPES
    for (name, version), entry in catalog.items():
        assert entry["schema"] == types.get(name, version).schema
        assert entry["aggregate_type"] == types.get(name, version).aggregate_type
    assert catalog[("order.placed", 1)]["latest"] is False
    assert catalog[("order.placed", 2)]["latest"] is True
    assert "currency" in catalog[("order.placed", 2)]["schema"]["required"]


def test_a_customer_cannot_read_the_type_catalog_or_the_event_log(customer_client):
    assert customer_client.get("/api/event-types/").status_code == 403
    assert customer_client.get("/api/events/").status_code == 403


@pytest.fixture
def scratch_types():  # type: ignore[no-untyped-def]
    """Types a test declares are taken out of the global registry afterwards."""
    before = set(types._registry)
    yield
    for name in set(types._registry) - before:
        del types._registry[name]


SCHEMA = {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}


def test_declaring_the_same_version_twice_is_refused(scratch_types):
    types.register("tests.thing_happened", aggregate_type="thing", schema=SCHEMA)

    with pytest.raises(ImproperlyConfigured) as refused:
        types.register("tests.thing_happened", aggregate_type="thing", schema=SCHEMA)

    assert str(refused.value) == types.DECLARED_TWICE.format(name="tests.thing_happened", version=1)


def test_a_new_version_needs_the_previous_one_and_an_upcaster(scratch_types):
    with pytest.raises(ImproperlyConfigured):
        types.register(
            "tests.orphan",
            version=2,
            aggregate_type="thing",
            schema=SCHEMA,
            upcast_from_previous=dict,
        )
    types.register("tests.thing_happened", aggregate_type="thing", schema=SCHEMA)
    with pytest.raises(ImproperlyConfigured):
        types.register("tests.thing_happened", version=2, aggregate_type="thing", schema=SCHEMA)

    types.register(
        "tests.thing_happened",
        version=2,
        aggregate_type="thing",
        schema=SCHEMA,
        upcast_from_previous=lambda payload: {**payload, "v2": True},
    )
    assert types.upcast("tests.thing_happened", 1, {"id": 1}) == (2, {"id": 1, "v2": True})


@pytest.fixture
def stored_event(customer, catalog) -> Event:
    order, _ = order_place(
        customer=customer, lines=[LineInput("MUG-LOGO", 1)], payment_token="tok_ok"
    )
    return Event.objects.get(aggregate_id=str(order.pk))


def test_a_stored_event_cannot_be_saved_again(stored_event):
    original = dict(stored_event.payload)
    stored_event.payload = {**original, "total": "0.00"}

    with pytest.raises(AppendOnlyError):
        stored_event.save()

    assert Event.objects.get(pk=stored_event.pk).payload == original


@pytest.mark.parametrize(
    "change",
    [
        lambda event: event.delete(),
        lambda event: Event.objects.filter(pk=event.pk).update(type="order.forged"),
        lambda event: Event.objects.update(type="order.forged"),
        lambda event: Event.objects.filter(pk=event.pk).delete(),
        lambda event: Event.objects.all().delete(),
        lambda event: Event.objects.bulk_update([event], ["type"]),
    ],
    ids=[
        "delete",
        "queryset update",
        "manager update",
        "queryset delete",
        "delete all",
        "bulk update",
    ],
)
def test_a_stored_event_cannot_be_changed_or_deleted(stored_event, change):
    stored_event.type = "order.forged"

    # In a savepoint, as a caller's transaction would be: bulk_update's refusal breaks it.
    with pytest.raises(AppendOnlyError), transaction.atomic():
        change(stored_event)

    assert Event.objects.filter(pk=stored_event.pk, type="order.placed").exists()


def test_the_database_itself_refuses_to_change_a_stored_event_behind_the_orm(stored_event):
    from django.db import DatabaseError, connection, transaction

    if connection.vendor != "postgresql":
        # SQLite has no such trigger (its test flush deletes rows); the ORM guard holds there.
        with pytest.raises(AppendOnlyError):
            Event.objects.filter(pk=stored_event.pk).update(type="changed")
        return
    for sql in ("UPDATE events_event SET type = 'changed'", "DELETE FROM events_event"):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    assert Event.objects.get(pk=stored_event.pk).type == "order.placed"
