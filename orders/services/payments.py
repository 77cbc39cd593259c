"""Payments: charging the order through the gateway, its callback, refunds.

The gateway is the outside world (the sandbox, over HTTP): it is never called inside a
transaction. Each call comes first, and its outcome is recorded afterwards in a
transaction of its own; its idempotency key makes a retried or redelivered charge take
the money once, and a retried refund give it back once.
"""

from typing import NoReturn

from django.db import transaction
from django.utils import timezone

from events.models import WorkflowRun
from events.services import event_emit
from events.workflows import workflow_signal

from .. import gateway
from ..models import Order, Payment
from .exceptions import OrderNotActive, UnknownCharge
from .locks import fulfillment_run, order_lock

PAYMENT_CONFIRMED = "payment.confirmed"


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
            token=order.payment_token,
            amount=order.total,
            idempotency_key=gateway.charge_key(order),
        )
    except gateway.PaymentDeclined as exc:
        _record_decline(order_id=order.pk, reason=str(exc))
        raise
    if charge.pending:
        return _record_pending(order_id=order.pk, charge_id=charge.id)
    return _record_capture(order_id=order.pk, charge_id=charge.id)


def payment_confirm(*, charge_id: str, succeeded: bool, reason: str = "") -> Payment:
    """The gateway's callback for a pending charge: record the outcome, resume the workflow.

    A duplicate callback, or one for a payment no longer pending, changes nothing. A
    charge confirmed after its order was cancelled is voided: the refund goes out after
    the transaction, and the payment stays pending until it is recorded (a failed refund
    answers an error, and the gateway sends its callback again).
    """
    with transaction.atomic():
        order_id = Payment.objects.filter(charge_id=charge_id).values_list("order_id", flat=True)
        if not order_id:
            raise UnknownCharge(f"No payment with charge id {charge_id!r}.")
        # The run, the order, the payment: the order every path takes them in.
        run = fulfillment_run(order_id=order_id[0], lock=True)
        order = order_lock(order_id[0])
        payment = Payment.objects.select_for_update().get(charge_id=charge_id)
        if payment.status != Payment.Status.PENDING:
            return payment
        if succeeded and order.status == Order.Status.RESERVED:
            return _capture_confirmed(payment, run=run)
        if not succeeded:
            return _decline_confirmed(payment, run=run, reason=reason)
    # Confirmed after the order was cancelled: the money goes straight back.
    return payment_refund(order_id=payment.order_id)


def _capture_confirmed(payment: Payment, *, run: WorkflowRun | None) -> Payment:
    """The pending charge went through: the order is paid and its run goes on."""
    payment = _capture(Order.objects.get(pk=payment.order_id), payment.charge_id)
    if run is not None:
        workflow_signal(run=run, signal=PAYMENT_CONFIRMED, result={"confirmed": True})
    return payment


def _decline_confirmed(payment: Payment, *, run: WorkflowRun | None, reason: str) -> Payment:
    """The pending charge was declined: the run fails its payment step and compensates."""
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


def _record_pending(*, order_id: int, charge_id: str) -> Payment:
    with transaction.atomic():
        order = order_lock(order_id)
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
    order = order_lock(order_id)
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
        order = order_lock(order_id)
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


def payment_refund(*, order_id: int) -> Payment | None:
    """Refund a captured payment, or void a pending one (no-op if there is neither).

    The gateway is called first, outside any transaction, with the charge's own key; the
    outcome is recorded afterwards in a transaction of its own. If recording fails, the
    payment still reads captured, so the retry refunds again (the gateway answers with the
    refund it already made) and records it then: the ledger and the database agree.
    """
    payment = Payment.objects.filter(order_id=order_id).first()
    if payment is None:
        return _refund_unrecorded_charge(order_id=order_id)
    if payment.status not in (Payment.Status.PENDING, Payment.Status.CAPTURED):
        return payment
    at_provider = gateway.refund(charge_id=payment.charge_id)
    return _record_refund(order_id=order_id, at_provider=at_provider)


def _refund_unrecorded_charge(*, order_id: int) -> Payment | None:
    """The charge step gave up with the outcome unknown (every answer lost or late): the
    provider may have taken the money all the same. It is looked up by the charge's key,
    given back, and recorded, so the ledger and the database agree."""
    order = Order.objects.get(pk=order_id)
    charge = gateway.find_charge(idempotency_key=gateway.charge_key(order))
    if charge is None or charge.status not in ("succeeded", "pending"):
        return None
    at_provider = gateway.refund(charge_id=charge.id)
    with transaction.atomic():
        order = order_lock(order_id)
        Payment.objects.get_or_create(
            order=order,
            defaults={
                "amount": order.total,
                "status": Payment.Status.CAPTURED if not charge.pending else Payment.Status.PENDING,
                "charge_id": charge.id,
            },
        )
    return _record_refund(order_id=order_id, at_provider=at_provider)


@transaction.atomic
def _record_refund(*, order_id: int, at_provider: str) -> Payment:
    """Record what the provider says it did: a pending charge voided (no money had moved),
    or money given back (a charge settled meanwhile is refunded, not voided)."""
    order = order_lock(order_id)
    payment = Payment.objects.select_for_update().get(order=order)
    if payment.status not in (Payment.Status.PENDING, Payment.Status.CAPTURED):
        return payment
    if at_provider == "canceled":  # void: no money was taken
        payment.status = Payment.Status.VOIDED
        payment.save(update_fields=["status"])
        return payment
    payment.status = Payment.Status.REFUNDED
    payment.refunded_at = timezone.now()
    payment.save(update_fields=["status", "refunded_at"])
    event_emit(
        type="payment.refunded",
        aggregate_id=order.pk,
        payload={
            "order_id": order.pk,
            "customer_id": order.customer_id,
            "amount": str(payment.amount),
            "charge_id": payment.charge_id,
        },
    )
    return payment
