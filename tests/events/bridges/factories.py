"""Events and CloudEvents for the bridge tests."""

import json
import uuid
from decimal import Decimal

from django.db import transaction

from events.models import Event
from events.services import event_emit
from orders.models import Order, OrderLine, Product

SOURCE = "/warehouse"


def emit_ticks(aggregate: str, count: int, start: int = 1) -> list[Event]:
    """``count`` probe events of one aggregate, each in its own transaction."""
    events = []
    for n in range(start, start + count):
        with transaction.atomic():
            events.append(event_emit(type="probe.tick", aggregate_id=aggregate, payload={"n": n}))
    return events


def shipped_order(customer) -> Order:  # type: ignore[no-untyped-def]
    """An order on its way to the customer: paid for, its parcel with the carrier."""
    product, _ = Product.objects.get_or_create(
        sku="MUG", defaults={"name": "Mug", "price": Decimal("10.00"), "stock": 5}
    )
    order = Order.objects.create(
        customer=customer, status=Order.Status.SHIPPED, total=Decimal("10.00"), payment_token="tok"
    )
    OrderLine.objects.create(
        order=order, product=product, sku="MUG", name="Mug", unit_price=product.price, quantity=1
    )
    return order


def delivered(order_id: int, *, id: str | None = None, **overrides: object) -> dict:
    """The warehouse's CloudEvent saying the order's parcel arrived."""
    return {
        "specversion": "1.0",
        "id": id or str(uuid.uuid4()),
        "source": SOURCE,
        "type": "shipment.delivered",
        "subject": str(order_id),
        "datacontenttype": "application/json",
        "data": {"order_id": order_id, "tracking_number": "TRK-1"},
        **overrides,
    }


def body(cloudevent: dict) -> bytes:
    return json.dumps(cloudevent).encode()
