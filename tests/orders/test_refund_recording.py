"""A refund the provider made, whose recording transaction then failed, is not lost.

The provider is the suite's real sandbox process; the failure is the app's own
transaction rolling back after the refund went out.
"""

import pytest
from django.db import OperationalError

from events.models import Event, WorkflowRun
from events.workflows import workflow_cancel
from events.workflows.engine import step_execute, workflow_compensate
from orders.models import Payment
from orders.services import payments
from tests.helpers.fulfillment import place, run_steps, start_fulfillment

pytestmark = pytest.mark.django_db


def test_the_retry_records_the_refund_the_provider_already_made(
    customer, catalog, sandbox, monkeypatch
):
    order = place(customer)
    run = start_fulfillment(order)
    run_steps(run, "reserve_stock", "charge_payment")
    workflow_cancel(run=run, reason="operator_request")
    real_emit = payments.event_emit

    def database_gone(**kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("the connection was lost while recording the refund")

    monkeypatch.setattr(payments, "event_emit", database_gone)
    first = workflow_compensate(run_id=run.pk)

    # The provider refunded; the app's transaction rolled back: they disagree for now.
    assert first.status == WorkflowRun.Status.COMPENSATING
    assert first.retry_in is not None
    [charge] = sandbox.charges_for_order(order.pk)
    assert charge["status"] == "refunded"
    assert Payment.objects.get(order=order).status == Payment.Status.CAPTURED
    assert not Event.objects.filter(type="payment.refunded").exists()

    monkeypatch.setattr(payments, "event_emit", real_emit)
    assert workflow_compensate(run_id=run.pk).status == WorkflowRun.Status.CANCELLED

    # They agree: one refund at the provider, one recorded refund and its event.
    payment = Payment.objects.get(order=order)
    assert payment.status == Payment.Status.REFUNDED
    assert [r["charge_id"] for r in sandbox.refunds()].count(payment.charge_id) == 1
    assert Event.objects.filter(type="payment.refunded", aggregate_id=str(order.pk)).count() == 1


def test_a_charge_whose_every_answer_was_lost_is_found_by_its_key_and_given_back(
    customer, catalog, sandbox, settings
):
    settings.ORDERS = {**settings.ORDERS, "SANDBOX_READ_TIMEOUT_SECONDS": 0.3}
    order = place(customer)
    run = start_fulfillment(order)
    run_steps(run, "reserve_stock")
    sandbox.set_faults(lose_rate=1, lose_hold=1, endpoints=["charges"])
    for attempt in range(1, 6):  # the step's five tries, each answer lost
        step_execute(run_id=run.pk, step_name="charge_payment", task_id=f"t-{attempt}")
    run.refresh_from_db()
    assert run.status == WorkflowRun.Status.COMPENSATING
    assert not Payment.objects.filter(order=order).exists()  # the app never heard back
    [charge] = sandbox.charges_for_order(order.pk)
    assert charge["status"] == "succeeded"  # ...but the provider took the money
    sandbox.clear_faults()

    assert workflow_compensate(run_id=run.pk).status == WorkflowRun.Status.FAILED

    payment = Payment.objects.get(order=order)
    assert (payment.status, payment.charge_id) == (Payment.Status.REFUNDED, charge["id"])
    assert [c["status"] for c in sandbox.charges_for_order(order.pk)] == ["refunded"]
    assert [r["charge_id"] for r in sandbox.refunds()].count(charge["id"]) == 1
    step_run = run.steps.get(name="charge_payment")
    assert step_run.status == "failed"  # it did fail; its compensation still ran
    assert step_run.compensated_at is not None
    order.refresh_from_db()
    assert (order.status, order.failure_reason) == ("failed", "fulfillment_error")


def test_an_order_cancelled_while_its_lost_charge_awaits_a_retry_gets_the_money_back(
    customer, catalog, customer_client, sandbox, settings
):
    settings.ORDERS = {**settings.ORDERS, "SANDBOX_READ_TIMEOUT_SECONDS": 0.3}
    order = place(customer)
    run = start_fulfillment(order)
    run_steps(run, "reserve_stock")
    with sandbox.faults(lose_rate=1, lose_hold=1, endpoints=["charges"]):
        step_execute(run_id=run.pk, step_name="charge_payment", task_id="t-1")
    assert run.steps.get(name="charge_payment").status == "retrying"
    [charge] = sandbox.charges_for_order(order.pk)  # taken, the answer lost

    assert customer_client.post(f"/api/orders/{order.pk}/cancel/").status_code == 200
    assert workflow_compensate(run_id=run.pk).status == WorkflowRun.Status.CANCELLED

    assert [c["status"] for c in sandbox.charges_for_order(order.pk)] == ["refunded"]
    assert Payment.objects.get(order=order).status == Payment.Status.REFUNDED
    step_run = run.steps.get(name="charge_payment")
    assert step_run.status == "skipped"  # not tried again
    assert step_run.compensated_at is not None
    # Its retry, still on its way, finds the run stopped and does nothing.
    assert step_execute(run_id=run.pk, step_name="charge_payment", task_id="t-2").status == (
        "not-runnable"
    )
    assert [c["id"] for c in sandbox.charges_for_order(order.pk)] == [charge["id"]]
