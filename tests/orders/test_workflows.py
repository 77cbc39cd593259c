"""Steering an order's runs when the order has moved on: a clear conflict, nothing changed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from events.models import Event, StepRun, WorkflowRun
from events.workflows import workflow_cancel
from events.workflows.engine import step_execute, workflow_compensate, workflow_fire_timers
from orders import gateway
from orders.models import Order, Payment, Return
from orders.services import return_request
from tests.helpers.fulfillment import place, run_steps, start_fulfillment, steps, stock

pytestmark = pytest.mark.django_db

S = StepRun.Status
FULFILLMENT_STEPS = (
    "reserve_stock",
    "charge_payment",
    "create_shipment",
    "send_confirmation",
    "complete_order",
)


def test_the_run_of_an_order_cancelled_for_want_of_payment_cannot_be_retried(
    staff_client, customer, catalog
):
    order = place(customer, token="tok_async")
    run = start_fulfillment(order)
    run_steps(run, "reserve_stock", "charge_payment")
    assert steps(run)["charge_payment"] == S.WAITING
    StepRun.objects.filter(run=run, name="charge_payment").update(
        wait_deadline=timezone.now() - timedelta(seconds=1)
    )
    assert workflow_fire_timers() == 1
    workflow_compensate(run_id=run.id)
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert run.steps.get(name="charge_payment").error.startswith("No 'payment.confirmed'")

    response = staff_client.post(f"/api/workflows/{run.pk}/retry/")

    assert response.status_code == 409
    assert "only a failed order reopens" in str(response.json())
    run.refresh_from_db()
    assert run.status == WorkflowRun.Status.FAILED
    order.refresh_from_db()
    assert order.status == "cancelled"


def test_receiving_the_parcel_of_a_return_whose_run_stopped_waiting_is_a_conflict(
    staff_client, customer, catalog
):
    order = place(customer)
    run_steps(start_fulfillment(order), *FULFILLMENT_STEPS)
    order.refresh_from_db()
    assert order.status == Order.Status.FULFILLED
    ret = return_request(order=order, reason="too small")
    returns_run = WorkflowRun.objects.get(workflow="orders.returns", subject_id=str(ret.pk))
    step_execute(run_id=returns_run.pk, step_name="await_parcel", task_id="t-await")
    workflow_cancel(run=returns_run, reason="operator_request")

    response = staff_client.post(f"/api/returns/{ret.pk}/receive/")

    assert response.status_code == 409
    assert "no longer waits for the parcel" in str(response.json())
    ret.refresh_from_db()
    assert (ret.status, ret.received_at) == (Return.Status.AWAITING_PARCEL, None)


def test_a_confirmation_for_an_order_cancelled_while_its_charge_was_pending_gives_it_back(
    client, customer, catalog, sandbox
):
    order = place(customer, token="tok_async")
    run_steps(start_fulfillment(order), "reserve_stock", "charge_payment")
    payment = Payment.objects.get(order=order)
    assert payment.status == Payment.Status.PENDING
    # The moment between the charge going pending and its step parking: the order is
    # cancelled, and nothing has voided the charge yet.
    Order.objects.filter(pk=order.pk).update(status=Order.Status.CANCELLED)
    body = gateway.callback_body(charge_id=payment.charge_id, succeeded=True)

    response = client.post(
        "/api/payments/callback/",
        body,
        content_type="application/json",
        headers={gateway.SIGNATURE_HEADER: gateway.sign(body)},
    )

    assert response.status_code == 200
    assert response.json() == {"charge_id": payment.charge_id, "payment_status": "voided"}
    payment.refresh_from_db()
    assert payment.status == Payment.Status.VOIDED
    # The provider voided the charge: no money moved.
    assert [(c["id"], c["status"]) for c in sandbox.charges_for_order(order.pk)] == [
        (payment.charge_id, "canceled")
    ]
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert not Event.objects.filter(aggregate_id=str(order.pk), type="payment.captured").exists()


def test_a_failed_order_whose_payment_was_refunded_does_not_reopen(staff_client, customer, catalog):
    order = place(customer)
    run = start_fulfillment(order)
    run_steps(run, "reserve_stock", "charge_payment")
    # What a shipment that failed for good leaves behind, once compensated.
    Payment.objects.filter(order=order).update(status=Payment.Status.REFUNDED)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.FAILED)
    WorkflowRun.objects.filter(pk=run.pk).update(status=WorkflowRun.Status.FAILED)

    response = staff_client.post(f"/api/workflows/{run.pk}/retry/")

    assert response.status_code == 409
    assert "cannot be charged again" in str(response.json())
    run.refresh_from_db()
    assert run.status == WorkflowRun.Status.FAILED
    order.refresh_from_db()
    assert order.status == Order.Status.FAILED


def test_a_failure_after_shipping_leaves_the_order_shipped_and_paid_until_a_retry(
    staff_client, customer, catalog, monkeypatch
):
    import notifications.services

    order = place(customer)
    run = start_fulfillment(order)

    def mail_relay_down(**kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("the mail relay refuses the message")

    monkeypatch.setattr(notifications.services, "notification_send", mail_relay_down)
    run_steps(run, "reserve_stock", "charge_payment", "create_shipment")
    stock_after_reserve = stock()
    run_steps(run, "send_confirmation")

    run.refresh_from_db()
    assert run.status == WorkflowRun.Status.FAILED
    assert "the mail relay refuses the message" in run.error
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    assert Payment.objects.get(order=order).status == Payment.Status.CAPTURED
    assert stock() == stock_after_reserve  # nothing released

    monkeypatch.undo()
    response = staff_client.post(f"/api/workflows/{run.pk}/retry/")
    assert response.status_code == 200, response.content
    run_steps(run, "send_confirmation", "complete_order")

    run.refresh_from_db()
    assert run.status == WorkflowRun.Status.SUCCEEDED
    order.refresh_from_db()
    assert order.status == Order.Status.FULFILLED
    assert steps(run)["create_shipment"] == S.SUCCEEDED  # not run twice


@pytest.mark.parametrize("token", ["tok_ok", "tok_async"])
def test_an_order_cancelled_while_the_gateway_was_charging_gets_its_money_back(
    customer, catalog, monkeypatch, token, sandbox
):
    order = place(customer, token=token)
    run = start_fulfillment(order)
    run_steps(run, "reserve_stock")
    real_charge = gateway.charge

    def charge_while_cancelled(**kwargs):  # type: ignore[no-untyped-def]
        charge = real_charge(**kwargs)
        Order.objects.filter(pk=order.pk).update(status=Order.Status.CANCELLED)
        return charge

    monkeypatch.setattr(gateway, "charge", charge_while_cancelled)

    run_steps(run, "charge_payment")

    # Given back: refunded once taken, voided while pending.
    expected = "refunded" if token == "tok_ok" else "canceled"
    assert [c["status"] for c in sandbox.charges_for_order(order.pk)] == [expected]
    assert not Payment.objects.filter(order=order).exists()
    assert steps(run)["charge_payment"] == S.SKIPPED
