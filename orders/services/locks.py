"""The fulfillment run and the order, looked up and locked in the order every path takes."""

from events.models import WorkflowRun

from ..models import Order

FULFILLMENT = "orders.fulfillment"


def fulfillment_run(*, order_id: int, lock: bool = False) -> WorkflowRun | None:
    """The order's fulfillment run, if it has started: there is one per order.

    With ``lock``, the run's row is locked. Every path that touches both locks the run
    before the order and its payment, as the workflow engine does, so a cancel, a
    compensation and a gateway callback on one order wait for each other instead of
    deadlocking.
    """
    runs = WorkflowRun.objects.filter(workflow=FULFILLMENT, subject_id=str(order_id))
    return (runs.select_for_update() if lock else runs).first()


def order_lock(order_id: int) -> Order:
    """The order, its row locked until the transaction ends."""
    return Order.objects.select_for_update().get(pk=order_id)
