"""The order's own states: completed, failed, reopened, expired, cancelled."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from events.services import event_emit

from ..conf import orders_settings
from ..models import Order, Payment
from .exceptions import OrderNotActive, OrderNotCancellable
from .locks import order_lock


@transaction.atomic
def order_complete(*, order_id: int) -> Order:
    order = order_lock(order_id)
    if order.status == Order.Status.FULFILLED:
        return order
    if order.status != Order.Status.SHIPPED:
        raise OrderNotActive(f"Order {order.pk} is {order.status}, not shipped.")
    order.status = Order.Status.FULFILLED
    order.holds_stock = False  # the units left the warehouse with the shipment
    order.save(update_fields=["status", "holds_stock", "updated_at"])
    event_emit(
        type="order.fulfilled",
        aggregate_id=order.pk,
        payload={
            "order_id": order.pk,
            "customer_id": order.customer_id,
            "lines": [
                {"sku": line.sku, "quantity": line.quantity, "unit_price": str(line.unit_price)}
                for line in order.lines.all()
            ],
            "total": str(order.total),
        },
    )
    return order


@transaction.atomic
def order_fail(*, order_id: int, reason: Order.FailureReason) -> Order:
    """Mark the order failed with a reason (no-op once it reached an end state)."""
    order = order_lock(order_id)
    if order.status in Order.TERMINAL:
        return order
    order.status = Order.Status.FAILED
    order.failure_reason = reason
    order.save(update_fields=["status", "failure_reason", "updated_at"])
    event_emit(
        type="order.failed",
        aggregate_id=order.pk,
        payload={"order_id": order.pk, "customer_id": order.customer_id, "reason": reason},
    )
    return order


@transaction.atomic
def order_reopen(*, order_id: int) -> Order:
    """Put a failed order back in fulfillment (its workflow is being retried).

    Only a failed order: a cancelled one (paid too late, cancelled by its customer) stays
    cancelled, and one still in fulfillment has nothing to reopen. A shipped order whose
    run failed after shipping stays shipped while the run resumes.
    """
    order = order_lock(order_id)
    if order.status == Order.Status.SHIPPED:
        return order  # the run failed past shipping: it resumes, the order stands as it is
    if order.status != Order.Status.FAILED:
        raise OrderNotActive(f"Order {order.pk} is {order.status}; only a failed order reopens.")
    payment = Payment.objects.filter(order=order).first()
    if payment is not None and payment.status in (Payment.Status.REFUNDED, Payment.Status.VOIDED):
        raise OrderNotActive(
            f"Order {order.pk}'s payment was {payment.status}: it cannot be charged again, "
            "so the order does not reopen. Place a new order instead."
        )
    order.status = Order.Status.PENDING
    order.failure_reason = ""
    order.save(update_fields=["status", "failure_reason", "updated_at"])
    event_emit(
        type="order.reopened",
        aggregate_id=order.pk,
        payload={"order_id": order.pk, "customer_id": order.customer_id},
    )
    return order


def orders_expire_pending() -> int:
    """Fail orders that stayed pending longer than ``ORDERS["PENDING_TTL_SECONDS"]``."""
    cutoff = timezone.now() - timedelta(seconds=orders_settings.PENDING_TTL_SECONDS)
    stale = Order.objects.filter(status=Order.Status.PENDING, created_at__lt=cutoff)
    order_ids = list(stale.values_list("pk", flat=True))
    for order_id in order_ids:
        order_fail(order_id=order_id, reason=Order.FailureReason.EXPIRED)
    return len(order_ids)


@transaction.atomic
def order_lock_for_cancel(*, order_id: int) -> Order:
    """Lock the order if it may still be cancelled, else raise ``OrderNotCancellable``.

    The lock holds until the cancelling transaction ends, so no step ships the order
    while its payment is being refunded.
    """
    order = order_lock(order_id)
    if order.status != Order.Status.CANCELLED and order.status not in Order.CANCELLABLE:
        raise OrderNotCancellable(order.status)
    return order


def order_mark_cancelled(*, order_id: int, reason: str) -> Order:
    """Mark the order cancelled and say so with ``order.cancelled`` (once).

    ``reason`` is an ``Order.CancelReason``, ``Order.FailureReason.PAYMENT_TIMEOUT``, or
    the reason its fulfillment run was cancelled with.
    """
    order = order_lock(order_id)
    if order.status == Order.Status.CANCELLED:
        return order
    if order.status not in Order.CANCELLABLE:
        raise OrderNotCancellable(order.status)
    order.status = Order.Status.CANCELLED
    order.save(update_fields=["status", "updated_at"])
    event_emit(
        type="order.cancelled",
        aggregate_id=order.pk,
        payload={"order_id": order.pk, "customer_id": order.customer_id, "reason": reason},
    )
    return order
