"""Steps of the returns workflow: thin adapters to the return services."""

from events.workflows import StepContext, Wait, step

from . import services
from .conf import orders_settings
from .models import Return
from .services.returns import PARCEL_RECEIVED


def _return_id(ctx: StepContext) -> int:
    return int(ctx.subject_id)


@step("orders.await_returned_parcel")
def await_parcel(ctx: StepContext) -> Wait:
    """Wait for the warehouse to receive the parcel (POST /api/returns/{id}/receive/)."""
    services.return_await_parcel(return_id=_return_id(ctx))
    return Wait(
        signal=PARCEL_RECEIVED,
        timeout_seconds=orders_settings.RETURN_PARCEL_TIMEOUT_SECONDS,
        timeout_reason=Return.FailureReason.PARCEL_NOT_RECEIVED,
    )


@step("orders.restock_return")
def restock(ctx: StepContext) -> None:
    services.return_restock(return_id=_return_id(ctx))


@step("orders.refund_return", atomic=False)
def refund(ctx: StepContext) -> dict:
    """Refunds through the gateway (idempotent: a refunded payment is not refunded again)."""
    payment = services.payment_refund(order_id=int(ctx.input["order_id"]))
    return {"payment_status": payment.status if payment else None}


@step("orders.complete_return")
def complete_return(ctx: StepContext) -> None:
    services.return_complete(return_id=_return_id(ctx))
