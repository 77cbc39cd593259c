"""The returns workflow on real workers: a second workflow on the same engine."""

import pytest

from orders.models import Payment, Product, Return
from tests.factories import order_body
from tests.integration.helpers import (
    assert_gapless,
    place,
    timeline,
    wait_for_status,
)
from tests.processes import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def return_status(return_id: int, status: str) -> Return | None:
    return Return.objects.filter(pk=return_id, status=status).first()


def test_a_returned_order_is_restocked_and_refunded_once_the_parcel_arrives(
    worker, customer_client, staff_client, catalog, wait_settled
):
    initial = Product.objects.get(sku="CAP-NAVY").stock
    order = place(customer_client, order_body(("CAP-NAVY", 2)))
    wait_for_status(customer_client, order["id"], {"fulfilled"})
    assert Product.objects.get(sku="CAP-NAVY").stock == initial - 2

    response = customer_client.post(
        f"/api/orders/{order['id']}/return/", {"reason": "too small"}, format="json"
    )
    assert response.status_code == 201, response.content
    ret = response.json()
    wait_until(
        lambda: return_status(ret["id"], "awaiting_parcel"),
        timeout=30,
        message="the return to wait for its parcel",
    )
    assert customer_client.post(f"/api/returns/{ret['id']}/receive/").status_code == 403

    assert staff_client.post(f"/api/returns/{ret['id']}/receive/").status_code == 200
    wait_until(
        lambda: return_status(ret["id"], "completed"),
        timeout=30,
        message="the return to complete",
    )
    wait_settled()

    assert Product.objects.get(sku="CAP-NAVY").stock == initial
    assert Payment.objects.get(order_id=order["id"]).status == "refunded"
    events = timeline(customer_client, order["id"])
    assert_gapless(events)
    after_fulfillment = [e["type"] for e in events][5:]
    assert after_fulfillment[:2] == ["return.requested", "return.received"]
    assert sorted(after_fulfillment[2:4]) == ["payment.refunded", "stock.restocked"]
    assert after_fulfillment[4:] == ["return.completed"]
    # A second return, or receiving twice, is refused with a clear conflict.
    again = customer_client.post(f"/api/orders/{order['id']}/return/", {}, format="json")
    assert again.status_code == 409
    assert staff_client.post(f"/api/returns/{ret['id']}/receive/").status_code == 409


def test_only_a_fulfilled_order_can_be_returned(worker, customer_client, other_client, catalog):
    order = place(customer_client, order_body(("MUG-LOGO", 1), token="tok_decline"))
    wait_for_status(customer_client, order["id"], {"failed"})

    response = customer_client.post(f"/api/orders/{order['id']}/return/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["errors"] == {"status": "failed"}
    assert (
        other_client.post(f"/api/orders/{order['id']}/return/", {}, format="json").status_code
        == 404
    )
