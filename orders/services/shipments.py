"""Shipments: the parcel booked with the carrier, and the order marked shipped."""

from django.db import transaction

from events.services import event_emit

from .. import carrier
from ..models import Order, Shipment
from .exceptions import OrderNotActive
from .lifecycle import order_complete
from .locks import order_lock


def shipment_create(*, order_id: int) -> Shipment:
    """Book the shipment with the carrier, then record it and mark the order shipped.

    The booking is an outside call, made outside a transaction and idempotent by key.
    """
    existing = Shipment.objects.filter(order_id=order_id).first()
    if existing is not None:
        return existing
    order = Order.objects.filter(pk=order_id, status=Order.Status.PAID).first()
    if order is None:
        raise OrderNotActive(f"Order {order_id} is not paid.")
    tracking_number = carrier.book(idempotency_key=booking_key(order))
    try:
        return _record_shipment(order_id=order_id, tracking_number=tracking_number)
    except OrderNotActive:
        # Cancelled while booking: the parcel is called off, after the transaction.
        carrier.cancel(tracking_number=tracking_number)
        raise


def booking_key(order: Order) -> str:
    """The order's booking idempotency key: stable across retries, unique across databases."""
    return f"ship-order-{order.pk}-{int(order.created_at.timestamp() * 1_000_000)}"


@transaction.atomic
def _record_shipment(*, order_id: int, tracking_number: str) -> Shipment:
    order = order_lock(order_id)
    if order.status != Order.Status.PAID:
        raise OrderNotActive(f"Order {order.pk} became {order.status} while booking.")
    shipment, created = Shipment.objects.get_or_create(
        order=order, defaults={"carrier": carrier.CARRIER, "tracking_number": tracking_number}
    )
    if created:
        order.status = Order.Status.SHIPPED
        order.save(update_fields=["status", "updated_at"])
        event_emit(
            type="shipment.created",
            aggregate_id=order.pk,
            payload={
                "order_id": order.pk,
                "shipment_id": shipment.pk,
                "carrier": shipment.carrier,
                "tracking_number": shipment.tracking_number,
            },
        )
    return shipment


def shipment_mark_delivered(*, order_id: int) -> Order:
    """The parcel reached the customer: a shipped order is fulfilled.

    Once: an order already fulfilled stays as it is. One not shipped (yet, or ever)
    raises ``OrderNotActive``, and the delivery is retried, then dead-lettered.
    """
    return order_complete(order_id=order_id)
