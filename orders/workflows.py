"""The order domain's workflows, declared in one place: fulfillment and returns."""

from events.models import WorkflowRun
from events.workflows import CancelRefused, Workflow, WorkflowNotRetryable, parallel, register

from . import services
from .models import Order
from .return_steps import await_parcel, complete_return, refund, restock
from .services.exceptions import OrderNotActive, OrderNotCancellable
from .steps import charge_payment, complete_order, create_shipment, reserve_stock, send_confirmation


def _fail_order(run: WorkflowRun) -> None:
    if run.failure_reason == Order.FailureReason.PAYMENT_TIMEOUT:
        # Never paid: the order is cancelled by the workflow itself, nothing went wrong.
        services.order_mark_cancelled(
            order_id=int(run.subject_id), reason=Order.FailureReason.PAYMENT_TIMEOUT
        )
        return
    if run.failure_reason in Order.FailureReason.values:
        reason = Order.FailureReason(run.failure_reason)
    else:
        reason = Order.FailureReason.FULFILLMENT_ERROR
    services.order_fail(order_id=int(run.subject_id), reason=reason)


def _may_cancel_order(run: WorkflowRun) -> None:
    """Refuse before the refund goes out, not after: a shipped order stays as it is."""
    try:
        services.order_lock_for_cancel(order_id=int(run.subject_id))
    except OrderNotCancellable as exc:
        raise CancelRefused(str(exc)) from exc


def _cancel_order(run: WorkflowRun) -> None:
    try:
        services.order_mark_cancelled(order_id=int(run.subject_id), reason=run.failure_reason)
    except OrderNotCancellable as exc:
        raise CancelRefused(str(exc)) from exc


def _reopen_order(run: WorkflowRun) -> None:
    try:
        services.order_reopen(order_id=int(run.subject_id))
    except OrderNotActive as exc:
        raise WorkflowNotRetryable(str(exc)) from exc


fulfillment = register(
    Workflow(
        "orders.fulfillment",
        subject_type="order",
        description="Reserve stock, take payment, ship and confirm, then complete the order.",
        stages=[
            reserve_stock,  # compensated by release_stock
            charge_payment,  # retried on a transient gateway error; compensated by a refund
            parallel(create_shipment, send_confirmation),
            complete_order,
        ],
        on_failure=_fail_order,
        on_retry=_reopen_order,
        before_cancel=_may_cancel_order,
        on_cancel=_cancel_order,
        # A parcel with the carrier is not taken back by a refund: a failure after it
        # leaves the order shipped and the run failed, for an operator to retry.
        point_of_no_return=create_shipment,
    )
)


def _reject_return(run: WorkflowRun) -> None:
    services.return_reject(return_id=int(run.subject_id), reason=run.failure_reason)


returns = register(
    Workflow(
        "orders.returns",
        subject_type="return",
        description="Wait for the returned parcel, then restock and refund together, and close.",
        stages=[
            await_parcel,  # parks the run until the warehouse signals the parcel (or 14 days)
            parallel(restock, refund),
            complete_return,
        ],
        on_failure=_reject_return,
    )
)
