"""Fulfillment steps: thin adapters from the workflow engine to the order services."""

from celery.exceptions import SoftTimeLimitExceeded
from django.db import InterfaceError, OperationalError

from events.workflows import RetryPolicy, StepCancelled, StepContext, StepFailed, Wait, step

from . import carrier, gateway, services
from .conf import orders_settings
from .models import Order, Payment
from .services.exceptions import OrderNotActive, OutOfStock
from .services.payments import PAYMENT_CONFIRMED

# A deadlock, a dropped connection or a write lock held too long heals on retry. Failing
# for good there would compensate: after shipping, that means refunding a shipped order.
RETRY_TRANSIENT = RetryPolicy(
    max_attempts=5,
    backoff=0.5,
    max_backoff=10,
    retry_on=(OperationalError, InterfaceError, SoftTimeLimitExceeded),
)


def _order_id(ctx: StepContext) -> int:
    return int(ctx.subject_id)


@step("orders.reserve_stock", soft_time_limit=20, retry=RETRY_TRANSIENT)
def reserve_stock(ctx: StepContext) -> dict:
    try:
        order = services.stock_reserve(order_id=_order_id(ctx))
    except OutOfStock as exc:
        raise StepFailed(Order.FailureReason.OUT_OF_STOCK, str(exc)) from exc
    except OrderNotActive as exc:
        raise StepCancelled(str(exc)) from exc
    return {"status": order.status}


@reserve_stock.compensation
def release_stock(ctx: StepContext) -> None:
    services.stock_release(order_id=_order_id(ctx), reason=Order.StockReleaseReason.COMPENSATION)


@step(
    "orders.charge_payment",
    # Calls the gateway outside any transaction; a timeout or a 5xx is retried with the same
    # idempotency key, so the money is taken once. Its compensation (the refund) retries on
    # the same errors.
    atomic=False,
    soft_time_limit=30,
    retry=RetryPolicy(
        max_attempts=5, backoff=0.5, max_backoff=10, retry_on=(gateway.GatewayUnavailable,)
    ),
)
def charge_payment(ctx: StepContext) -> dict | Wait:
    try:
        payment = services.payment_charge(order_id=_order_id(ctx))
    except gateway.PaymentDeclined as exc:
        raise StepFailed(Order.FailureReason.PAYMENT_DECLINED, str(exc)) from exc
    except OrderNotActive as exc:
        raise StepCancelled(str(exc)) from exc
    result = {
        "payment_id": payment.pk,
        "charge_id": payment.charge_id,
        "amount": str(payment.amount),
    }
    if payment.status == Payment.Status.PENDING:
        # The gateway confirms later (POST /api/payments/callback/); unpaid in time, the
        # order is cancelled.
        return Wait(
            signal=PAYMENT_CONFIRMED,
            timeout_seconds=orders_settings.PAYMENT_CONFIRMATION_TIMEOUT_SECONDS,
            timeout_reason=Order.FailureReason.PAYMENT_TIMEOUT,
            result=result,
        )
    return result


@charge_payment.compensation
def refund_payment(ctx: StepContext) -> None:
    """Refund outside any transaction; a transient error is retried by the engine, a
    refusal by the provider ends the run ``compensation_failed`` for an operator."""
    try:
        services.payment_refund(order_id=_order_id(ctx))
    except gateway.GatewayRefused as exc:
        raise StepFailed("refund_refused", str(exc)) from exc


@step(
    "orders.create_shipment",
    atomic=False,  # books with the carrier; idempotent through the booking key
    soft_time_limit=30,
    retry=RetryPolicy(
        max_attempts=5, backoff=0.5, max_backoff=10, retry_on=(carrier.CarrierUnavailable,)
    ),
)
def create_shipment(ctx: StepContext) -> dict:
    try:
        shipment = services.shipment_create(order_id=_order_id(ctx))
    except OrderNotActive as exc:
        raise StepCancelled(str(exc)) from exc
    return {"shipment_id": shipment.pk, "tracking_number": shipment.tracking_number}


@step("orders.send_confirmation", soft_time_limit=20, retry=RETRY_TRANSIENT)
def send_confirmation(ctx: StepContext) -> dict:
    notification = services.order_confirmation_send(order_id=_order_id(ctx))
    return {"notification_id": notification.pk}


@step("orders.complete_order", soft_time_limit=20, retry=RETRY_TRANSIENT)
def complete_order(ctx: StepContext) -> dict:
    try:
        order = services.order_complete(order_id=_order_id(ctx))
    except OrderNotActive as exc:
        raise StepCancelled(str(exc)) from exc
    return {"status": order.status}
