"""Stock: the order's units taken off the shelf, and put back."""

from django.db import transaction
from django.db.models import F

from events.services import event_emit

from ..models import Order, Product
from .exceptions import OrderNotActive, OutOfStock
from .locks import order_lock


def _lines_payload(order: Order) -> list[dict]:
    return [{"sku": line.sku, "quantity": line.quantity} for line in order.lines.all()]


@transaction.atomic
def stock_reserve(*, order_id: int) -> Order:
    """Take the order's units off stock, all or none."""
    order = order_lock(order_id)
    if order.holds_stock or order.status != Order.Status.PENDING:
        if order.status in (Order.Status.CANCELLED, Order.Status.FAILED):
            raise OrderNotActive(f"Order {order.pk} is {order.status}.")
        return order
    short = []
    for line in order.lines.order_by("product_id"):  # one lock order for every reserver
        taken = Product.objects.filter(pk=line.product_id, stock__gte=line.quantity).update(
            stock=F("stock") - line.quantity
        )
        if not taken:
            short.append(line.sku)
    if short:
        raise OutOfStock(short)  # leaving the atomic block undoes the lines already taken
    order.holds_stock = True
    order.status = Order.Status.RESERVED
    order.save(update_fields=["holds_stock", "status", "updated_at"])
    event_emit(
        type="stock.reserved",
        aggregate_id=order.pk,
        payload={"order_id": order.pk, "lines": _lines_payload(order)},
    )
    return order


@transaction.atomic
def stock_release(*, order_id: int, reason: Order.StockReleaseReason) -> Order:
    """Put the order's reserved units back on stock (no-op if it holds none)."""
    order = order_lock(order_id)
    if not order.holds_stock:
        return order
    for line in order.lines.order_by("product_id"):
        Product.objects.filter(pk=line.product_id).update(stock=F("stock") + line.quantity)
    order.holds_stock = False
    order.save(update_fields=["holds_stock", "updated_at"])
    event_emit(
        type="stock.released",
        aggregate_id=order.pk,
        payload={"order_id": order.pk, "lines": _lines_payload(order), "reason": reason},
    )
    return order
