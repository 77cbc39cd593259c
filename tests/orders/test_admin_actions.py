"""The order admin's cancel action, through the engine's shared action reporting.

Cancelling an order cancels its fulfillment run, whose compensations put the stock back.
"""

import pytest

from events.models import Event
from events.workflows.engine import workflow_compensate
from orders.models import Order
from orders.services.placement import CANNOT_CANCEL
from tests.helpers.admin import act, shown
from tests.helpers.fulfillment import event_types, place, run_steps, start_fulfillment, stock

pytestmark = pytest.mark.django_db


def test_cancelling_a_pending_and_a_reserved_order_cancels_both(
    superuser_client, customer, catalog
):
    initial = stock()
    pending = place(customer, quantity=1)
    reserved = place(customer, quantity=2)
    run = start_fulfillment(reserved)
    run_steps(run, "reserve_stock")
    assert stock() == initial - 2  # only the reserved order took units off stock

    response = act(superuser_client, Order, "cancel", [pending, reserved])

    assert shown(response) == [("success", "Cancelled 2 order(s).")]
    assert Order.objects.get(pk=pending.pk).status == Order.Status.CANCELLED
    assert Order.objects.get(pk=reserved.pk).status == Order.Status.CANCELLED
    workflow_compensate(run_id=run.pk)  # what the worker does after the cancel's commit
    assert event_types(pending) == ["order.placed", "order.cancelled"]
    assert event_types(reserved) == [
        "order.placed",
        "stock.reserved",
        "order.cancelled",
        "stock.released",
    ]
    assert stock() == initial
    run.refresh_from_db()
    assert (run.status, run.failure_reason) == ("cancelled", "operator_request")
    reasons = Event.objects.filter(type="order.cancelled").values_list("payload__reason", flat=True)
    assert list(reasons) == ["operator_request", "operator_request"]


def test_cancelling_a_fulfilled_order_is_reported_and_changes_nothing(
    superuser_client, customer, catalog
):
    order = place(customer)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.FULFILLED)

    response = act(superuser_client, Order, "cancel", [order])

    assert shown(response) == [
        ("error", f"1 failed: order {order.pk}: {CANNOT_CANCEL.format(status='fulfilled')}")
    ]
    assert Order.objects.get(pk=order.pk).status == Order.Status.FULFILLED
    assert event_types(order) == ["order.placed"]
