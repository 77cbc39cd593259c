"""Cancelling a paid order while real workers run its fulfillment."""

import pytest

from orders.models import Order, Product, Shipment
from tests.factories import order_body
from tests.integration.helpers import (
    assert_gapless,
    place,
    timeline,
    wait_for_status,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_paid_order_cancelled_before_shipping_is_refunded_once(
    start_worker, customer_client, catalog, wait_settled, sandbox
):
    # A slow carrier (the sandbox's shipments) holds the order in "paid" long enough to
    # cancel it.
    sandbox.set_faults(latency=3, endpoints=["shipments"])
    start_worker()
    initial_stock = Product.objects.get(sku="MUG-LOGO").stock
    order = place(customer_client, order_body(("MUG-LOGO", 2)))
    wait_for_status(customer_client, order["id"], {"paid"}, timeout=30)

    response = customer_client.post(f"/api/orders/{order['id']}/cancel/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    wait_settled()

    events = timeline(customer_client, order["id"])
    assert_gapless(events)
    types = [e["type"] for e in events]
    assert types == [
        "order.placed",
        "stock.reserved",
        "payment.captured",
        "order.cancelled",  # decided first; the refund and the release follow it
        "payment.refunded",
        "stock.released",
    ]
    assert Order.objects.get(pk=order["id"]).status == "cancelled"
    assert Product.objects.get(sku="MUG-LOGO").stock == initial_stock
    assert not Shipment.objects.filter(order_id=order["id"]).exists()
    run = customer_client.get(f"/api/orders/{order['id']}/workflow/").json()
    assert run["status"] == "cancelled"
    steps = {s["name"]: s["status"] for s in run["steps"]}
    assert steps["charge_payment"] == "compensated"
    assert steps["reserve_stock"] == "compensated"
    assert steps["complete_order"] == "skipped"
    # The provider took the money once and gave it back once.
    [charge] = sandbox.charges_for_order(order["id"])
    assert charge["status"] == "refunded"
    assert [r["charge_id"] for r in sandbox.refunds()].count(charge["id"]) == 1
