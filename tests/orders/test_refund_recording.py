"""A refund the provider made, whose recording transaction then failed, is not lost.

The provider is the suite's real sandbox process; the failure is the app's own
transaction rolling back after the refund went out.
"""

import pytest
from django.db import OperationalError

from events.models import Event, WorkflowRun
from events.workflows import workflow_cancel
from events.workflows.engine import workflow_compensate
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
