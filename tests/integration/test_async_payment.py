"""An asynchronous payment: the run waits for the gateway's signed callback, or times out."""

import json

import pytest

from events.tasks import fire_workflow_timers
from orders import gateway
from orders.models import Payment, Product
from tests.factories import order_body
from tests.integration.helpers import place, timeline, wait_for_status
from tests.processes import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """This module's worker gives the gateway 4 seconds to confirm a payment."""
    from tests.processes import Worker, clear_broker

    with django_db_blocker.unblock():
        clear_broker()
        process = Worker(env={"ORDERS_PAYMENT_CONFIRMATION_TIMEOUT_SECONDS": "4"}).start()
    yield process
    process.stop()


def pending_payment(order_id: int) -> Payment:
    return wait_until(  # type: ignore[return-value]
        lambda: Payment.objects.filter(order_id=order_id, status="pending").first(),
        timeout=30,
        message=f"order {order_id}'s payment to wait for the gateway",
    )


def callback(client, body: bytes, signature: str | None = None):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/payments/callback/",
        data=body,
        content_type="application/json",
        headers={gateway.SIGNATURE_HEADER: signature or gateway.sign(body)},
    )


def test_the_gateways_signed_confirmation_resumes_the_waiting_run(worker, customer_client, catalog):
    from rest_framework.test import APIClient

    gateway_client = APIClient()  # the gateway is not logged in
    order = place(customer_client, order_body(("MUG-LOGO", 1), token="tok_async"))
    payment = pending_payment(order["id"])
    body = gateway.callback_body(charge_id=payment.charge_id, succeeded=True)

    forged = callback(gateway_client, body, signature="sha256=" + "0" * 64)
    assert forged.status_code == 403
    response = callback(gateway_client, body)
    assert response.status_code == 200, response.content
    assert response.json()["payment_status"] == "captured"

    wait_for_status(customer_client, order["id"], {"fulfilled"}, timeout=30)
    assert callback(gateway_client, body).json()["payment_status"] == "captured"  # duplicate
    types = [e["type"] for e in timeline(customer_client, order["id"])]
    assert types == [
        "order.placed",
        "stock.reserved",
        "payment.captured",
        "shipment.created",
        "order.fulfilled",
    ]


def test_an_unknown_charge_or_a_bad_body_is_refused_cleanly(worker, customer_client):
    from rest_framework.test import APIClient

    gateway_client = APIClient()
    unknown = gateway.callback_body(charge_id="ch_nope", succeeded=True)
    assert callback(gateway_client, unknown).status_code == 404
    bad = json.dumps({"charge_id": "ch_x", "status": "maybe"}).encode()
    response = callback(gateway_client, bad)
    assert response.status_code == 400
    assert "status" in response.json()["errors"]


def test_an_order_not_paid_in_time_is_cancelled_by_its_workflow(worker, customer_client, catalog):
    initial = Product.objects.get(sku="MUG-LOGO").stock
    order = place(customer_client, order_body(("MUG-LOGO", 2), token="tok_async"))
    pending_payment(order["id"])

    def cancelled() -> bool:
        fire_workflow_timers.delay()  # what beat does every few seconds
        return customer_client.get(f"/api/orders/{order['id']}/").json()["status"] == "cancelled"

    wait_until(cancelled, timeout=60, message="the payment timer to cancel the order")
    wait_until(
        lambda: timeline(customer_client, order["id"])[-1]["type"] == "order.cancelled",
        timeout=30,
        message="the cancellation event",
    )
    events = timeline(customer_client, order["id"])
    assert [e["type"] for e in events] == [
        "order.placed",
        "stock.reserved",
        "stock.released",
        "order.cancelled",
    ]
    assert events[-1]["payload"]["reason"] == "payment_timeout"
    assert Product.objects.get(sku="MUG-LOGO").stock == initial
    assert Payment.objects.get(order_id=order["id"]).status == "voided"
