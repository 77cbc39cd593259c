"""The steps of fulfillment as services: each one idempotent by the order's state."""

from datetime import timedelta
from typing import NoReturn

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from events.models import WorkflowRun
from events.services import event_emit

from .. import carrier, gateway
from ..models import Order, Payment, Product, Shipment

FULFILLMENT = "orders.fulfillment"
PAYMENT_CONFIRMED = "payment.confirmed"


def fulfillment_run(*, order_id: int, lock: bool = False) -> WorkflowRun | None:
    """The order's fulfillment run, if it has started: there is one per order.

    With ``lock``, the run's row is locked. Every path that touches both locks the run
    before the order and its payment, as the workflow engine does, so a cancel, a
    compensation and a gateway callback on one order wait for each other instead of
    deadlocking.
    """
    runs = WorkflowRun.objects.filter(workflow=FULFILLMENT, subject_id=str(order_id))
    return (runs.select_for_update() if lock else runs).first()


class OutOfStock(Exception):
    def __init__(self, skus: list[str]) -> None:
        self.skus = skus
        super().__init__(f"Not enough stock for: {', '.join(skus)}")


class OrderNotCancellable(Exception):
    def __init__(self, status: str) -> None:
        self.status = status
        super().__init__(
            f"An order can be cancelled only while pending, reserved or paid; this one is {status}."
        )


class OrderNotActive(Exception):
    """The order was cancelled or failed meanwhile: the step must not go on."""


def _lock(order_id: int) -> Order:
    return Order.objects.select_for_update().get(pk=order_id)


def _lines_payload(order: Order) -> list[dict]:
    return [{"sku": line.sku, "quantity": line.quantity} for line in order.lines.all()]


@transaction.atomic
def stock_reserve(*, order_id: int) -> Order:
    """Take the order's units off stock, all or none."""
    order = _lock(order_id)
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
def stock_release(*, order_id: int, reason: str) -> Order:
    """Put the order's reserved units back on stock (no-op if it holds none)."""
    order = _lock(order_id)
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


class UnknownCharge(Exception):
    pass


def payment_confirm(*, charge_id: str, succeeded: bool, reason: str = "") -> Payment:
    """The gateway's callback for a pending charge: record the outcome, resume the workflow.

    A duplicate callback, or one for a payment no longer pending (its order was cancelled
    meanwhile), changes nothing.
    """
    from events.workflows import workflow_signal

    with transaction.atomic():
        order_id = Payment.objects.filter(charge_id=charge_id).values_list("order_id", flat=True)
        if not order_id:
            raise UnknownCharge(f"No payment with charge id {charge_id!r}.")
        # The run, the order, the payment: the order every path takes them in.
        run = fulfillment_run(order_id=order_id[0], lock=True)
        order = _lock(order_id[0])
        payment = Payment.objects.select_for_update().get(charge_id=charge_id)
        if payment.status != Payment.Status.PENDING:
            return payment
        gateway.settle(charge_id=charge_id, succeeded=succeeded)
        if succeeded and order.status != Order.Status.RESERVED:
            # Cancelled while the charge was pending: the money goes straight back, and
            # the order was never paid.
            gateway.refund(charge_id=charge_id)
            payment.status = Payment.Status.VOIDED
            payment.save(update_fields=["status"])
            return payment
        if succeeded:
            payment = _record_capture(order_id=payment.order_id, charge_id=charge_id)
            if run is not None:
                workflow_signal(run=run, signal=PAYMENT_CONFIRMED, result={"confirmed": True})
            return payment
        payment.status = Payment.Status.DECLINED
        payment.decline_reason = reason or "Declined by the gateway."
        payment.save(update_fields=["status", "decline_reason"])
        event_emit(
            type="payment.declined",
            aggregate_id=payment.order_id,
            payload={
                "order_id": payment.order_id,
                "amount": str(payment.amount),
                "reason": payment.decline_reason,
            },
        )
        if run is not None:
            workflow_signal(
                run=run,
                signal=PAYMENT_CONFIRMED,
                failure_reason=Order.FailureReason.PAYMENT_DECLINED,
                error=payment.decline_reason,
            )
        return payment


def payment_charge(*, order_id: int) -> Payment:
    """Charge the order through the gateway, then record the outcome with its event.

    Runs outside a transaction: the gateway call is the outside world. Its idempotency
    key makes a retried or redelivered charge take the money once.
    """
    order = Order.objects.get(pk=order_id)
    existing = Payment.objects.filter(order=order).first()
    if existing is not None and existing.status == Payment.Status.DECLINED:
        raise gateway.PaymentDeclined(existing.decline_reason)
    if existing is not None:
        return existing
    if order.status != Order.Status.RESERVED:
        raise OrderNotActive(f"Order {order.pk} is {order.status}, not reserved.")
    try:
        charge = gateway.charge(
            token=order.payment_token, amount=order.total, idempotency_key=f"order-{order.pk}"
        )
    except gateway.PaymentDeclined as exc:
        _record_decline(order_id=order.pk, reason=str(exc))
        raise
    if charge.pending:
        return _record_pending(order_id=order.pk, charge_id=charge.id)
    return _record_capture(order_id=order.pk, charge_id=charge.id)


def _record_pending(*, order_id: int, charge_id: str) -> Payment:
    with transaction.atomic():
        order = _lock(order_id)
        if order.status == Order.Status.RESERVED:
            payment, _ = Payment.objects.get_or_create(
                order=order,
                defaults={
                    "amount": order.total,
                    "status": Payment.Status.PENDING,
                    "charge_id": charge_id,
                },
            )
            return payment
    _give_back(charge_id=charge_id, order=order)


def _give_back(*, charge_id: str, order: Order) -> NoReturn:
    """Cancelled while the gateway was charging: the money goes straight back.

    Called outside the transaction, like any call to the gateway: a rollback here must
    not take the refund back with it.
    """
    gateway.refund(charge_id=charge_id)
    raise OrderNotActive(f"Order {order.pk} became {order.status} during the charge.")


@transaction.atomic
def _record_decline(*, order_id: int, reason: str) -> None:
    order = _lock(order_id)
    _, created = Payment.objects.get_or_create(
        order=order,
        defaults={
            "amount": order.total,
            "status": Payment.Status.DECLINED,
            "decline_reason": reason,
        },
    )
    if created:
        event_emit(
            type="payment.declined",
            aggregate_id=order.pk,
            payload={"order_id": order.pk, "amount": str(order.total), "reason": reason},
        )


def _record_capture(*, order_id: int, charge_id: str) -> Payment:
    with transaction.atomic():
        order = _lock(order_id)
        if order.status == Order.Status.RESERVED:
            return _capture(order, charge_id)
    _give_back(charge_id=charge_id, order=order)


def _capture(order: Order, charge_id: str) -> Payment:
    payment, created = Payment.objects.get_or_create(
        order=order,
        defaults={"amount": order.total, "status": Payment.Status.CAPTURED, "charge_id": charge_id},
    )
    if not created and payment.status == Payment.Status.PENDING:  # confirmed by callback
        payment.status = Payment.Status.CAPTURED
        payment.save(update_fields=["status"])
        created = True
    if created:
        order.status = Order.Status.PAID
        order.save(update_fields=["status", "updated_at"])
        event_emit(
            type="payment.captured",
            aggregate_id=order.pk,
            payload={"order_id": order.pk, "amount": str(payment.amount), "charge_id": charge_id},
        )
    return payment


@transaction.atomic
def payment_refund(*, order_id: int) -> Payment | None:
    """Refund a captured payment (no-op if there is none or it was refunded)."""
    order = _lock(order_id)
    payment = Payment.objects.select_for_update().filter(order=order).first()
    if payment is not None and payment.status == Payment.Status.PENDING:
        gateway.refund(charge_id=payment.charge_id)  # void: no money was taken
        payment.status = Payment.Status.VOIDED
        payment.save(update_fields=["status"])
        return payment
    if payment is None or payment.status != Payment.Status.CAPTURED:
        return payment
    gateway.refund(charge_id=payment.charge_id)
    payment.status = Payment.Status.REFUNDED
    payment.refunded_at = timezone.now()
    payment.save(update_fields=["status", "refunded_at"])
    event_emit(
        type="payment.refunded",
        aggregate_id=order.pk,
        payload={
            "order_id": order.pk,
            "amount": str(payment.amount),
            "charge_id": payment.charge_id,
        },
    )
    return payment


def shipment_create(*, order_id: int) -> Shipment:
    """Book the shipment with the carrier, then record it and mark the order shipped.

    The booking is an outside call, made outside a transaction and idempotent by key.
    """
    existing = Shipment.objects.filter(order_id=order_id).first()
    if existing is not None:
        return existing
    if not Order.objects.filter(pk=order_id, status=Order.Status.PAID).exists():
        raise OrderNotActive(f"Order {order_id} is not paid.")
    tracking_number = carrier.book(idempotency_key=f"order-{order_id}")
    return _record_shipment(order_id=order_id, tracking_number=tracking_number)


@transaction.atomic
def _record_shipment(*, order_id: int, tracking_number: str) -> Shipment:
    order = _lock(order_id)
    if order.status != Order.Status.PAID:
        carrier.cancel(tracking_number=tracking_number)
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


@transaction.atomic
def order_complete(*, order_id: int) -> Order:
    order = _lock(order_id)
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
def order_fail(*, order_id: int, reason: str) -> Order:
    """Mark the order failed with a reason (no-op once it reached an end state)."""
    order = _lock(order_id)
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
    order = _lock(order_id)
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
    cutoff = timezone.now() - timedelta(seconds=settings.ORDERS["PENDING_TTL_SECONDS"])
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
    order = _lock(order_id)
    if order.status != Order.Status.CANCELLED and order.status not in Order.CANCELLABLE:
        raise OrderNotCancellable(order.status)
    return order


def order_mark_cancelled(*, order_id: int, reason: str) -> Order:
    """Mark the order cancelled and say so with ``order.cancelled`` (once)."""
    order = _lock(order_id)
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
