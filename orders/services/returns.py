"""Returns: asking, receiving the parcel, restocking and refunding."""

from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from events.models import WorkflowRun
from events.services import event_emit
from events.workflows import workflow_signal, workflow_start
from project.errors import Conflict

from ..conf import orders_settings
from ..models import Order, Product, Return

RETURNS = "orders.returns"
PARCEL_RECEIVED = "return.parcel_received"

NOT_RETURNABLE = "Only a fulfilled order can be returned; this one is {status}."
TOO_LATE = "The return window of {days} days after fulfillment has closed."
ALREADY_REQUESTED = "A return was already requested for this order."
NOT_AWAITED = "This return is not waiting for a parcel; it is {status}."
RUN_NOT_WAITING = "The return's workflow no longer waits for the parcel; it is {status}."


@transaction.atomic
def return_request(*, order: Order, reason: str = "") -> Return:
    """Open a return for a fulfilled order and start the returns workflow."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.status != Order.Status.FULFILLED:
        raise Conflict(NOT_RETURNABLE.format(status=order.status), extra={"status": order.status})
    days = orders_settings.RETURN_WINDOW_DAYS
    if order.updated_at < timezone.now() - timedelta(days=days):
        raise Conflict(TOO_LATE.format(days=days))
    if Return.objects.filter(order=order).exists():
        raise Conflict(ALREADY_REQUESTED)
    ret = Return.objects.create(order=order, reason=reason)
    event = event_emit(
        type="return.requested",
        aggregate_id=order.pk,
        payload={"order_id": order.pk, "return_id": ret.pk, "reason": reason},
    )
    workflow_start(
        workflow=RETURNS,
        subject_id=ret.pk,
        input={"return_id": ret.pk, "order_id": order.pk},
        correlation_id=event.correlation_id,
    )
    return ret


def _lock(return_id: int) -> Return:
    return Return.objects.select_for_update().select_related("order").get(pk=return_id)


@transaction.atomic
def return_await_parcel(*, return_id: int) -> Return:
    ret = _lock(return_id)
    if ret.status == Return.Status.REQUESTED:
        ret.status = Return.Status.AWAITING_PARCEL
        ret.save(update_fields=["status"])
    return ret


@transaction.atomic
def return_receive(*, ret: Return) -> Return:
    """The warehouse has the parcel: the waiting workflow goes on to restock and refund."""
    # The run before the return, as the engine's compensation (which rejects it) takes them.
    run = WorkflowRun.objects.select_for_update().get(workflow=RETURNS, subject_id=str(ret.pk))
    ret = _lock(ret.pk)
    if ret.status != Return.Status.AWAITING_PARCEL:
        raise Conflict(NOT_AWAITED.format(status=ret.status), extra={"status": ret.status})
    ret.status = Return.Status.RECEIVED
    ret.received_at = timezone.now()
    ret.save(update_fields=["status", "received_at"])
    event_emit(
        type="return.received",
        aggregate_id=ret.order_id,
        payload={"order_id": ret.order_id, "return_id": ret.pk},
    )
    if not workflow_signal(run=run, signal=PARCEL_RECEIVED, result={"received": True}):
        # The run stopped waiting (timed out, cancelled): receiving would lead nowhere.
        run.refresh_from_db(fields=["status"])
        raise Conflict(RUN_NOT_WAITING.format(status=run.status), extra={"workflow": run.status})
    return ret


@transaction.atomic
def return_restock(*, return_id: int) -> None:
    """Put the returned units back on stock (once: the step's success commits with it)."""
    ret = _lock(return_id)
    lines = list(ret.order.lines.order_by("product_id"))
    for line in lines:
        Product.objects.filter(pk=line.product_id).update(stock=F("stock") + line.quantity)
    event_emit(
        type="stock.restocked",
        aggregate_id=ret.order_id,
        payload={
            "order_id": ret.order_id,
            "return_id": ret.pk,
            "lines": [{"sku": line.sku, "quantity": line.quantity} for line in lines],
        },
    )


@transaction.atomic
def return_complete(*, return_id: int) -> Return:
    ret = _lock(return_id)
    if ret.status == Return.Status.COMPLETED:
        return ret
    ret.status = Return.Status.COMPLETED
    ret.completed_at = timezone.now()
    ret.save(update_fields=["status", "completed_at"])
    event_emit(
        type="return.completed",
        aggregate_id=ret.order_id,
        payload={
            "order_id": ret.order_id,
            "return_id": ret.pk,
            "customer_id": ret.order.customer_id,
        },
    )
    return ret


@transaction.atomic
def return_reject(*, return_id: int, reason: str) -> Return:
    ret = _lock(return_id)
    if ret.status in (Return.Status.COMPLETED, Return.Status.REJECTED):
        return ret
    ret.status = Return.Status.REJECTED
    ret.failure_reason = reason
    ret.save(update_fields=["status", "failure_reason"])
    event_emit(
        type="return.rejected",
        aggregate_id=ret.order_id,
        payload={"order_id": ret.order_id, "return_id": ret.pk, "reason": reason},
    )
    return ret
