"""The app's client to the sandbox: idempotent retries, transient errors, the transaction guard.

Against the suite's real sandbox process (tests/conftest.py), over HTTP.
"""

from decimal import Decimal

import pytest
from django.db import transaction

from orders import carrier, gateway
from orders.outside_http import CallInsideTransaction
from orders.services import payment_refund
from tests.helpers.fulfillment import place, run_steps, start_fulfillment
from tests.processes import free_port


def keyed(sandbox, key: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return [c for c in sandbox.charges() if c["idempotency_key"] == key]


def test_a_charge_retried_with_its_key_takes_the_money_once(sandbox, request):
    key = f"test-{request.node.name}"
    first = gateway.charge(token="tok_ok", amount=Decimal("9.99"), idempotency_key=key)
    again = gateway.charge(token="tok_ok", amount=Decimal("9.99"), idempotency_key=key)

    assert first == again
    assert not first.pending
    assert [(c["id"], c["status"]) for c in keyed(sandbox, key)] == [(first.id, "succeeded")]


def test_a_declined_card_is_permanent_and_an_async_one_pending(sandbox, request):
    with pytest.raises(gateway.PaymentDeclined):
        gateway.charge(token="tok_decline", amount=Decimal(1), idempotency_key=request.node.name)
    pending = gateway.charge(
        token="tok_async", amount=Decimal(1), idempotency_key=f"{request.node.name}-async"
    )
    assert pending.pending


def test_a_5xx_is_transient_and_the_retry_with_the_same_key_charges_once(sandbox, request):
    key = f"test-{request.node.name}"
    with (
        sandbox.faults(error_rate=1, endpoints=["charges"]),
        pytest.raises(gateway.GatewayUnavailable, match="503"),
    ):
        gateway.charge(token="tok_ok", amount=Decimal(5), idempotency_key=key)
    assert keyed(sandbox, key) == []
    gateway.charge(token="tok_ok", amount=Decimal(5), idempotency_key=key)
    assert len(keyed(sandbox, key)) == 1


def test_an_answer_slower_than_the_read_timeout_is_transient(sandbox, settings, request):
    settings.ORDERS = {**settings.ORDERS, "SANDBOX_READ_TIMEOUT_SECONDS": 0.3}
    key = f"test-{request.node.name}"
    with (
        sandbox.faults(lose_rate=1, lose_hold=2, endpoints=["charges"]),
        pytest.raises(gateway.GatewayUnavailable, match="ReadTimeout"),
    ):
        gateway.charge(token="tok_ok", amount=Decimal(5), idempotency_key=key)
    # The money was taken before the answer was lost; the retry finds the same charge.
    assert [c["status"] for c in keyed(sandbox, key)] == ["succeeded"]
    retried = gateway.charge(token="tok_ok", amount=Decimal(5), idempotency_key=key)
    assert [c["id"] for c in keyed(sandbox, key)] == [retried.id]


def test_a_refused_connection_is_transient(settings):
    settings.SANDBOX_URL = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(gateway.GatewayUnavailable, match="ConnectError"):
        gateway.charge(token="tok_ok", amount=Decimal(1), idempotency_key="nowhere")
    with pytest.raises(carrier.CarrierUnavailable):
        carrier.book(idempotency_key="nowhere")


def test_a_booking_gives_the_same_tracking_number_for_the_same_key(sandbox, request):
    key = f"test-{request.node.name}"
    assert carrier.book(idempotency_key=key) == carrier.book(idempotency_key=key)
    assert [s["idempotency_key"] for s in sandbox.shipments()].count(key) == 1


@pytest.mark.django_db
def test_the_guard_refuses_a_call_inside_a_transaction_before_it_is_sent(sandbox, request):
    key = f"test-{request.node.name}"
    with (
        pytest.raises(CallInsideTransaction, match="inside a database transaction"),
        transaction.atomic(),
    ):
        gateway.charge(token="tok_ok", amount=Decimal(1), idempotency_key=key)
    assert keyed(sandbox, key) == []  # never sent
    # Outside any atomic block of its own (the test's transaction aside), it goes through.
    gateway.charge(token="tok_ok", amount=Decimal(1), idempotency_key=key)
    assert len(keyed(sandbox, key)) == 1


@pytest.mark.django_db
def test_the_guard_catches_a_service_that_calls_out_inside_a_transaction(customer, catalog):
    order = place(customer)
    run_steps(start_fulfillment(order), "reserve_stock", "charge_payment")
    with pytest.raises(CallInsideTransaction), transaction.atomic():
        payment_refund(order_id=order.pk)
    assert payment_refund(order_id=order.pk).status == "refunded"  # outside: fine


@pytest.mark.django_db
def test_the_guard_is_off_unless_asked_for(settings, sandbox, request):
    settings.ORDERS = {**settings.ORDERS, "GUARD_OUTSIDE_CALLS": False}
    with transaction.atomic():
        gateway.charge(token="tok_ok", amount=Decimal(1), idempotency_key=request.node.name)
    assert len(keyed(sandbox, request.node.name)) == 1
