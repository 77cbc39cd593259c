"""Money moves once whatever the provider does: real worker, real sandbox, live server.

The sandbox runs as its own process on a free port, with its own ledger; the worker
reaches it over HTTP with a one-second read timeout. Each test reads the ledger over the
sandbox's HTTP API: exactly one capture, or none, whatever the faults did.
"""

import time

import pytest

from events.models import StepRun, WorkflowRun
from orders.models import Payment
from tests.factories import order_body
from tests.integration.helpers import place, wait_for_status
from tests.processes import Worker, clear_broker, wait_until
from tests.sandbox_process import Sandbox

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def provider(live_server):  # type: ignore[no-untyped-def]
    """This module's sandbox: its tok_async callbacks go to the live server."""
    process = Sandbox(callback_url=f"{live_server.url}/api/payments/callback/").start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def worker(provider, django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():
        clear_broker()
        process = Worker(
            env={
                "SANDBOX_URL": provider.url,
                "ORDERS_SANDBOX_READ_TIMEOUT_SECONDS": "1",
                "ORDERS_SANDBOX_CONNECT_TIMEOUT_SECONDS": "1",
                "EVENTS_COMPENSATION_MAX_ATTEMPTS": "2",
                "EVENTS_COMPENSATION_BACKOFF_SECONDS": "0.2",
            }
        ).start()
    yield process
    process.stop()


@pytest.fixture(autouse=True)
def no_faults_left(provider):  # type: ignore[no-untyped-def]
    yield
    provider.clear_faults()


def charge_attempts(order_id: int) -> int:
    """Tries of the order's charge step so far (0 before its run started)."""
    step = StepRun.objects.filter(
        run__workflow="orders.fulfillment", run__subject_id=str(order_id), name="charge_payment"
    ).first()
    return step.attempts if step else 0


def assert_captured_once(provider: Sandbox, order_id: int, status: str = "succeeded") -> None:
    charges = provider.charges_for_order(order_id)
    assert [c["status"] for c in charges] == [status], charges
    assert Payment.objects.get(order_id=order_id).charge_id == charges[0]["id"]


def test_the_provider_down_in_the_middle_of_a_charge_charges_once(
    worker, provider, customer_client, catalog, wait_settled
):
    provider.set_faults(latency=2, endpoints=["charges"])  # the charge is in flight a while
    order = place(customer_client, order_body(("MUG-LOGO", 1)))
    wait_for_status(customer_client, order["id"], {"reserved"}, timeout=30)
    wait_until(
        lambda: StepRun.objects.filter(name="charge_payment", status="running").exists(),
        timeout=30,
        message="the charge to be under way",
    )
    time.sleep(0.3)

    with provider.down():  # killed mid-request, refusing connections for three seconds
        time.sleep(3)

    wait_for_status(customer_client, order["id"], {"fulfilled"}, timeout=60)
    wait_settled()
    assert charge_attempts(order["id"]) >= 2  # the step retried, with the same key
    assert_captured_once(provider, order["id"])


def test_a_response_lost_after_the_money_was_taken_charges_once(
    worker, provider, customer_client, catalog, wait_settled
):
    provider.set_faults(lose_rate=1, lose_hold=5, endpoints=["charges"])
    order = place(customer_client, order_body(("MUG-LOGO", 1)))
    # The provider took the money; the worker timed out waiting for the answer.
    wait_until(
        lambda: provider.charges_for_order(order["id"]),
        timeout=30,
        message="the provider to take the money",
    )
    provider.clear_faults()

    wait_for_status(customer_client, order["id"], {"fulfilled"}, timeout=60)
    wait_settled()
    assert charge_attempts(order["id"]) >= 2
    assert_captured_once(provider, order["id"])


def test_a_provider_slower_than_the_client_timeout_charges_once(
    worker, provider, customer_client, catalog, wait_settled
):
    provider.set_faults(latency=2.5, endpoints=["charges"])  # past the 1 s read timeout
    order = place(customer_client, order_body(("MUG-LOGO", 1)))
    wait_until(
        lambda: charge_attempts(order["id"]) >= 2,
        timeout=30,
        message="the charge to time out and be retried",
    )
    provider.clear_faults()

    wait_for_status(customer_client, order["id"], {"fulfilled"}, timeout=60)
    wait_settled()
    time.sleep(3)  # every slow request the worker gave up on has been answered by now
    assert_captured_once(provider, order["id"])


def test_a_declined_card_moves_no_money(worker, provider, customer_client, catalog, wait_settled):
    provider.set_faults(error_rate=0.5, endpoints=["charges"])
    order = place(customer_client, order_body(("MUG-LOGO", 1), token="tok_decline"))

    done = wait_for_status(customer_client, order["id"], {"failed"}, timeout=60)
    wait_settled()

    assert done["failure_reason"] == "payment_declined"
    assert [c["status"] for c in provider.charges_for_order(order["id"])] == ["failed"]


def test_a_refund_that_fails_for_good_ends_compensation_failed_until_the_operators_retry(
    worker, provider, customer_client, staff_client, catalog, wait_settled
):
    # A slow carrier holds the order paid; every refund is refused while it is cancelled.
    provider.set_faults(latency=3, endpoints=["shipments"])
    order = place(customer_client, order_body(("MUG-LOGO", 1)))
    wait_for_status(customer_client, order["id"], {"paid"}, timeout=30)
    provider.set_faults(error_rate=1, endpoints=["refunds"])
    assert customer_client.post(f"/api/orders/{order['id']}/cancel/").status_code == 200

    run = wait_until(
        lambda: WorkflowRun.objects.filter(
            subject_id=str(order["id"]), status="compensation_failed"
        ).first(),
        timeout=60,
        message="the compensation to fail for good",
    )
    assert run.compensation_attempts == 2
    assert_captured_once(provider, order["id"])  # taken, and not yet given back
    assert provider.refunds() == []
    provider.clear_faults()

    response = staff_client.post(f"/api/workflows/{run.pk}/retry-compensation/")
    assert response.status_code == 200, response.content

    wait_until(
        lambda: WorkflowRun.objects.get(pk=run.pk).status == "cancelled",
        timeout=60,
        message="the retried compensation to complete",
    )
    wait_settled()
    assert_captured_once(provider, order["id"], status="refunded")
    charge_id = Payment.objects.get(order_id=order["id"]).charge_id
    assert [r["charge_id"] for r in provider.refunds()] == [charge_id]
    assert Payment.objects.get(order_id=order["id"]).status == "refunded"


def test_the_providers_own_callback_completes_an_async_payment(
    worker, provider, customer_client, catalog, wait_settled
):
    order = place(customer_client, order_body(("MUG-LOGO", 1), token="tok_async"))

    # Nothing more from the test: the sandbox settles the charge and calls back.
    wait_for_status(customer_client, order["id"], {"fulfilled"}, timeout=60)
    wait_settled()

    assert_captured_once(provider, order["id"])
    assert Payment.objects.get(order_id=order["id"]).status == "captured"
    assert "Callback for" in provider.log()
