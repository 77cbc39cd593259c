"""Orders placed through the API, fulfilled by real worker processes on the real broker."""

from collections import Counter

import pytest

from events.models import Event, StepRun
from orders.models import Order, OrderLine, Product
from tests.factories import order_body
from tests.integration.helpers import assert_gapless, place, timeline, wait_for_status

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

FULFILLED = [
    "order.placed",
    "stock.reserved",
    "payment.captured",
    "shipment.created",
    "order.fulfilled",
]
DECLINED = ["order.placed", "stock.reserved", "payment.declined", "stock.released", "order.failed"]
OUT_OF_STOCK = ["order.placed", "order.failed"]


def test_each_payment_token_and_a_shortage_reach_their_terminal_status(
    worker, customer_client, catalog, wait_settled
):
    initial_stock = dict(Product.objects.values_list("sku", "stock"))
    ok = place(customer_client, order_body(("MUG-LOGO", 2), ("CAP-NAVY", 1)))
    declined = place(customer_client, order_body(("MUG-LOGO", 1), token="tok_decline"))
    flaky = place(customer_client, order_body(("TEE-BLACK-M", 3), token="tok_flaky"))
    short = place(customer_client, order_body(("LIMITED-POSTER", 4)))

    terminal = {"fulfilled", "failed", "cancelled"}
    final = {
        o["id"]: wait_for_status(customer_client, o["id"], terminal)
        for o in (ok, declined, flaky, short)
    }
    wait_settled()

    assert final[ok["id"]]["status"] == "fulfilled"
    assert final[flaky["id"]]["status"] == "fulfilled"
    assert (final[declined["id"]]["status"], final[declined["id"]]["failure_reason"]) == (
        "failed",
        "payment_declined",
    )
    assert (final[short["id"]]["status"], final[short["id"]]["failure_reason"]) == (
        "failed",
        "out_of_stock",
    )

    expected = {
        ok["id"]: FULFILLED,
        flaky["id"]: FULFILLED,
        declined["id"]: DECLINED,
        short["id"]: OUT_OF_STOCK,
    }
    for order_id, types in expected.items():
        events = timeline(customer_client, order_id)
        assert_gapless(events)
        assert [e["type"] for e in events] == types, order_id
        assert len({e["correlation_id"] for e in events}) == 1

    # The flaky token failed twice, then went through on the third attempt: one capture.
    charge = StepRun.objects.get(run__subject_id=str(flaky["id"]), name="charge_payment")
    assert (charge.status, charge.attempts) == ("succeeded", 3)

    captures = Counter(
        Event.objects.filter(type="payment.captured").values_list("aggregate_id", flat=True)
    )
    fulfilled_ids = {str(o.pk) for o in Order.objects.filter(status="fulfilled")}
    assert captures == Counter({order_id: 1 for order_id in fulfilled_ids})

    # Stock is conserved: what left the shelf is exactly what fulfilled orders shipped.
    shipped = Counter()
    for line in OrderLine.objects.filter(order__status="fulfilled"):
        shipped[line.sku] += line.quantity
    for sku, stock in Product.objects.values_list("sku", "stock"):
        assert stock == initial_stock[sku] - shipped[sku], sku

    workflow = customer_client.get(f"/api/orders/{ok['id']}/workflow/").json()
    assert workflow["status"] == "succeeded"
    assert [s["name"] for s in workflow["steps"]] == [
        "reserve_stock",
        "charge_payment",
        "create_shipment",
        "send_confirmation",
        "complete_order",
    ]
    assert all(s["status"] == "succeeded" and s["task_id"] for s in workflow["steps"])
