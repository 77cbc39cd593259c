"""Placing and cancelling orders."""

import hashlib
import json
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from events.services import event_emit
from events.workflows import workflow_cancel
from project.errors import ApplicationError, Conflict

from ..models import Order, OrderLine, Product
from .lifecycle import order_mark_cancelled
from .locks import fulfillment_run

CURRENCY = "EUR"

UNKNOWN_SKUS = "Some lines name a SKU that is not in the catalog."
UNKNOWN_SKU = "Unknown SKU {sku!r}."
IDEMPOTENCY_KEY_REUSED = "This Idempotency-Key was already used for a different order."
CANNOT_CANCEL = (
    "An order can be cancelled only while pending, reserved or paid; this one is {status}."
)


@dataclass(frozen=True)
class LineInput:
    sku: str
    quantity: int


def _fingerprint(lines: list[LineInput], payment_token: str) -> str:
    body = {"lines": [[line.sku, line.quantity] for line in lines], "token": payment_token}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _order_for_idempotency_key(
    *, customer: AbstractBaseUser, idempotency_key: str, fingerprint: str
) -> Order | None:
    """The customer's earlier order placed with this key, if any.

    The same key sent with a different request is a conflict.
    """
    order = Order.objects.filter(customer=customer, idempotency_key=idempotency_key).first()
    if order is not None and order.request_fingerprint != fingerprint:
        raise Conflict(IDEMPOTENCY_KEY_REUSED, extra={"idempotency_key": idempotency_key})
    return order


def order_place(
    *,
    customer: AbstractBaseUser,
    lines: list[LineInput],
    payment_token: str,
    idempotency_key: str = "",
) -> tuple[Order, bool]:
    """Create the order, its lines and ``order.placed`` in one transaction.

    Returns ``(order, created)``; with an ``idempotency_key`` already used by this
    customer for the same request, the first order comes back with ``created=False``.
    """
    fingerprint = _fingerprint(lines, payment_token)
    if idempotency_key:
        existing = _order_for_idempotency_key(
            customer=customer, idempotency_key=idempotency_key, fingerprint=fingerprint
        )
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            order = _create(
                customer=customer,
                lines=lines,
                payment_token=payment_token,
                idempotency_key=idempotency_key,
                fingerprint=fingerprint,
            )
    except IntegrityError:
        # A concurrent request with the same key won the race: answer with its order.
        if not idempotency_key:
            raise
        existing = _order_for_idempotency_key(
            customer=customer, idempotency_key=idempotency_key, fingerprint=fingerprint
        )
        if existing is None:
            raise
        return existing, False
    return order, True


def _create(
    *,
    customer: AbstractBaseUser,
    lines: list[LineInput],
    payment_token: str,
    idempotency_key: str,
    fingerprint: str,
) -> Order:
    products = Product.objects.in_bulk([line.sku for line in lines], field_name="sku")
    unknown = {
        str(index): {"sku": [UNKNOWN_SKU.format(sku=line.sku)]}
        for index, line in enumerate(lines)
        if line.sku not in products
    }
    if unknown:  # keyed like the serializer's own line errors
        raise ApplicationError(UNKNOWN_SKUS, extra={"lines": unknown})
    total = sum((products[line.sku].price * line.quantity for line in lines), start=0)
    order = Order.objects.create(
        customer=customer,
        total=total,
        payment_token=payment_token,
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint,
    )
    order_lines = OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            product=products[line.sku],
            sku=line.sku,
            name=products[line.sku].name,
            unit_price=products[line.sku].price,
            quantity=line.quantity,
        )
        for line in lines
    )
    event_emit(
        type="order.placed",
        aggregate_id=order.pk,
        payload={
            "order_id": order.pk,
            "customer_id": customer.pk,
            "lines": [
                {"sku": ol.sku, "quantity": ol.quantity, "unit_price": str(ol.unit_price)}
                for ol in order_lines
            ],
            "total": str(order.total),
            "currency": CURRENCY,
        },
    )
    return order


@transaction.atomic
def order_cancel(
    *, order: Order, reason: Order.CancelReason = Order.CancelReason.CUSTOMER_REQUEST
) -> Order:
    """Cancel the order: its fulfillment run undoes its work (refund, release stock)."""
    run = fulfillment_run(order_id=order.pk, lock=True)  # the run first, then the order
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.status not in Order.CANCELLABLE:
        raise Conflict(CANNOT_CANCEL.format(status=order.status), extra={"status": order.status})
    if run is not None and not run.is_terminal:
        workflow_cancel(run=run, reason=reason)  # its on_cancel hook marks the order cancelled
    return order_mark_cancelled(order_id=order.pk, reason=reason)
