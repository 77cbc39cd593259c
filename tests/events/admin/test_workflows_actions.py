"""The workflow run admin's actions: retry and cancel, run through the changelist.

Each action calls the engine; these tests check what it did to the database and what
the operator was told. The steps a retry queues go out after commit, which these tests,
inside one transaction, never reach: they run the steps themselves.
"""

from itertools import permutations

import pytest

from events.models import Event, StepRun, WorkflowRun
from events.workflows.engine import workflow_compensate
from orders.models import Order, Payment
from orders.services.placement import CANNOT_CANCEL
from tests.helpers.admin import act, row, shown
from tests.helpers.fulfillment import event_types, place, run_steps, start_fulfillment, steps, stock
from tests.helpers.probe_rows import probe_run
from tests.probe.models import Record, Switch

pytestmark = pytest.mark.django_db

S = StepRun.Status


# --- Retry -------------------------------------------------------------------------------


def test_retrying_a_failed_run_requeues_it_from_its_failed_step(superuser_client):
    run = probe_run("retry-me", fail=True)
    assert steps(run) == {"plain": S.SUCCEEDED, "b": S.FAILED, "e": S.SKIPPED}
    assert (run.error, run.failure_reason) == ("b: StepFailed: b refuses for good", "b_refused")

    response = act(superuser_client, WorkflowRun, "retry", [run])

    assert shown(response) == [("success", "Retried 1 run(s).")]
    run.refresh_from_db()
    assert run.status == WorkflowRun.Status.RUNNING
    assert (run.error, run.failure_reason, run.finished_at) == ("", "", None)
    assert steps(run) == {"plain": S.SUCCEEDED, "b": S.QUEUED, "e": S.PENDING}
    b = run.steps.get(name="b")
    assert (b.attempts, b.error, b.traceback, b.queued_at is not None) == (0, "", "", True)

    # The engine goes on from there; the step still in effect does not run again.
    Switch.objects.create(name="b-healed", on=True)
    run_steps(run, "b", "e")
    run.refresh_from_db()
    assert run.status == WorkflowRun.Status.SUCCEEDED
    handled = Record.objects.filter(aggregate_id="retry-me").order_by("id")
    assert list(handled.values_list("subscriber", flat=True)) == ["plain", "b", "e"]


def test_retrying_a_failed_fulfillment_reopens_its_order(superuser_client, customer, catalog):
    order = place(customer, token="tok_decline")
    run = start_fulfillment(order)
    run_steps(run, "reserve_stock", "charge_payment")
    workflow_compensate(run_id=run.id)
    order.refresh_from_db()
    assert (order.status, order.failure_reason) == ("failed", "payment_declined")

    response = act(superuser_client, WorkflowRun, "retry", [run])

    assert shown(response) == [("success", "Retried 1 run(s).")]
    run.refresh_from_db()
    assert run.status == WorkflowRun.Status.RUNNING
    # Nothing was still in effect (the reservation was compensated): it starts over.
    assert steps(run) == {
        "reserve_stock": S.QUEUED,
        "charge_payment": S.PENDING,
        "create_shipment": S.PENDING,
        "send_confirmation": S.PENDING,
        "complete_order": S.PENDING,
    }
    order.refresh_from_db()
    assert (order.status, order.failure_reason) == ("pending", "")
    assert event_types(order)[-1] == "order.reopened"


def test_retrying_a_succeeded_run_is_reported_and_changes_nothing(superuser_client):
    run = probe_run("done", fail=False)
    before, steps_before = row(run), steps(run)

    response = act(superuser_client, WorkflowRun, "retry", [run])

    assert shown(response) == [
        (
            "error",
            f"1 failed: {run}: Only a failed run can be retried; this one is succeeded.",
        )
    ]
    assert row(run) == before
    assert steps(run) == steps_before


# --- Cancel ------------------------------------------------------------------------------


def test_cancelling_a_running_fulfillment_undoes_its_steps_and_cancels_the_order(
    superuser_client, customer, catalog
):
    initial = stock()
    order = place(customer, quantity=2)
    run = start_fulfillment(order)
    run_steps(run, "reserve_stock")
    assert (stock(), Order.objects.get(pk=order.pk).status) == (initial - 2, "reserved")

    response = act(superuser_client, WorkflowRun, "cancel", [run])

    assert shown(response) == [("success", "Cancelled 1 run(s).")]
    assert Order.objects.get(pk=order.pk).status == Order.Status.CANCELLED
    run.refresh_from_db()
    assert run.status == "compensating"  # undone outside the cancel's transaction, next
    workflow_compensate(run_id=run.pk)  # what the worker does after the cancel's commit
    run.refresh_from_db()
    assert (run.status, run.failure_reason) == ("cancelled", "operator_request")
    assert run.finished_at is not None
    assert steps(run) == {
        "reserve_stock": S.COMPENSATED,
        "charge_payment": S.SKIPPED,
        "create_shipment": S.SKIPPED,
        "send_confirmation": S.SKIPPED,
        "complete_order": S.SKIPPED,
    }
    assert stock() == initial
    assert Order.objects.get(pk=order.pk).status == Order.Status.CANCELLED
    assert event_types(order) == [
        "order.placed",
        "stock.reserved",
        "order.cancelled",
        "stock.released",
    ]
    assert Event.objects.get(type="order.cancelled").payload["reason"] == "operator_request"


def test_cancelling_finished_runs_is_reported_and_changes_nothing(superuser_client):
    failed, succeeded = probe_run("failed", fail=True), probe_run("succeeded", fail=False)
    before = [row(failed), row(succeeded)]
    steps_before = [steps(failed), steps(succeeded)]

    response = act(superuser_client, WorkflowRun, "cancel", [failed, succeeded])

    [(level, message)] = shown(response)
    assert level == "error"
    refusals = [f"{failed}: already failed", f"{succeeded}: already succeeded"]
    # One message for both refusals, in the changelist's order of the runs.
    assert message in {"2 failed: " + "; ".join(order) for order in permutations(refusals)}
    assert [row(failed), row(succeeded)] == before
    assert [steps(failed), steps(succeeded)] == steps_before
    assert not Record.objects.filter(subscriber__startswith="undo-").exists()


def test_cancelling_the_run_of_a_shipped_order_is_refused_and_undoes_nothing(
    superuser_client, customer, catalog, sandbox
):
    order = place(customer, quantity=2)
    run = start_fulfillment(order)
    run_steps(run, "reserve_stock", "charge_payment", "create_shipment")
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    before, steps_before, events_before = row(run), steps(run), event_types(order)
    stock_before = stock()

    response = act(superuser_client, WorkflowRun, "cancel", [run])

    assert shown(response) == [
        ("error", f"1 failed: {run}: {CANNOT_CANCEL.format(status='shipped')}")
    ]
    assert row(run) == before
    assert steps(run) == steps_before
    assert event_types(order) == events_before
    assert stock() == stock_before
    payment = Payment.objects.get(order=order)
    assert payment.status == Payment.Status.CAPTURED
    assert [c["status"] for c in sandbox.charges_for_order(order.pk)] == ["succeeded"]
    assert Order.objects.get(pk=order.pk).status == Order.Status.SHIPPED
