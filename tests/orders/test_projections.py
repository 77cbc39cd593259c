"""The sales read model: built from order.fulfilled, once per event, rebuilt equal from history."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction

from events.models import Event
from events.services import delivery_run, event_emit
from orders.models import SalesDay

pytestmark = pytest.mark.django_db

SUBSCRIBER = "orders.sales_by_day"


def fulfil(order_id: int, *lines: tuple[str, int, str]) -> Event:
    with transaction.atomic():
        return event_emit(
            type="order.fulfilled",
            aggregate_id=order_id,
            payload={
                "order_id": order_id,
                "customer_id": 1,
                "lines": [{"sku": s, "quantity": q, "unit_price": p} for s, q, p in lines],
                "total": str(sum(Decimal(p) * q for _, q, p in lines)),
            },
        )


def snapshot() -> list[tuple]:
    return list(
        SalesDay.objects.order_by("day", "sku").values_list(
            "day", "sku", "units", "revenue", "orders"
        )
    )


@pytest.fixture
def history(django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks():  # nothing is published in this unit test
        return [
            fulfil(1, ("MUG-LOGO", 2, "12.50"), ("CAP-NAVY", 1, "15.00")),
            fulfil(2, ("MUG-LOGO", 1, "12.50")),
            fulfil(3, ("TEE-BLACK-M", 3, "19.90")),
        ]


def test_the_read_model_counts_each_fulfilled_order_once_even_if_delivered_twice(history):
    for event in history + history:
        delivery_run(event_id=event.id, subscriber=SUBSCRIBER)

    rows = {sku: (units, revenue, orders) for _, sku, units, revenue, orders in snapshot()}
    assert rows == {
        "MUG-LOGO": (3, Decimal("37.50"), 2),
        "CAP-NAVY": (1, Decimal("15.00"), 1),
        "TEE-BLACK-M": (3, Decimal("59.70"), 1),
    }


def test_a_rebuild_from_history_equals_the_incrementally_built_model(history):
    for event in history:
        delivery_run(event_id=event.id, subscriber=SUBSCRIBER)
    incremental = snapshot()
    SalesDay.objects.filter(sku="MUG-LOGO").update(units=999)  # the model drifted

    call_command("events", "rebuild", SUBSCRIBER)

    assert snapshot() == incremental
    # After the rebuild a late redelivery changes nothing.
    delivery_run(event_id=history[0].id, subscriber=SUBSCRIBER)
    assert snapshot() == incremental


def test_rebuilding_an_unknown_projection_is_a_clear_command_error():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Unknown projection: nope"):
        call_command("events", "rebuild", "nope")


def test_the_sales_report_is_for_staff_and_filters_by_day(history, staff_client, customer_client):
    for event in history:
        delivery_run(event_id=event.id, subscriber=SUBSCRIBER)
    day = history[0].occurred_at.date().isoformat()

    response = staff_client.get(f"/api/reports/sales/?day__gte={day}&sku=MUG-LOGO")
    assert response.status_code == 200
    assert [(r["sku"], r["units"], r["revenue"]) for r in response.json()["results"]] == [
        ("MUG-LOGO", 3, "37.50")
    ]
    assert customer_client.get("/api/reports/sales/").status_code == 403
