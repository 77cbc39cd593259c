"""A refund the provider keeps refusing: the run ends compensation_failed, visible in the
API, the admin and /metrics, and an operator's retry completes it once the provider is
back. The provider is the suite's real sandbox process, its refunds faulted."""

import io

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from events.admin import admin_url
from events.models import WorkflowRun
from events.workflows.engine import workflow_compensate
from orders.models import Order, Payment
from tests.helpers.admin import act, follow_filter, listed, shown
from tests.helpers.fulfillment import place, run_steps, start_fulfillment, steps

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed_refund(customer, catalog, customer_client, sandbox, settings):  # type: ignore[no-untyped-def]
    """A paid order cancelled while the provider answers every refund with a 503, its
    compensation tried until its (two) tries are spent."""
    settings.EVENTS = {**settings.EVENTS, "COMPENSATION_MAX_ATTEMPTS": 2}
    order = place(customer)
    run = start_fulfillment(order)
    run_steps(run, "reserve_stock", "charge_payment")
    assert customer_client.post(f"/api/orders/{order.pk}/cancel/").status_code == 200
    sandbox.set_faults(error_rate=1, endpoints=["refunds"])
    assert workflow_compensate(run_id=run.pk).retry_in is not None
    assert workflow_compensate(run_id=run.pk).status == "compensation_failed"
    run.refresh_from_db()
    return order, run


def test_the_run_ends_compensation_failed_with_what_was_and_was_not_undone(
    failed_refund, staff_client, sandbox
):
    order, run = failed_refund

    detail = staff_client.get(f"/api/workflows/{run.pk}/").json()

    assert detail["status"] == "compensation_failed"
    assert detail["compensation_attempts"] == 2
    assert detail["compensation_error"].startswith("charge_payment: GatewayUnavailable:")
    assert "503" in detail["compensation_error"]
    # Newest first: the refund failed, so the stock was not released either.
    assert detail["compensation"] == {
        "undone": [],
        "not_undone": ["reserve_stock", "charge_payment"],
    }
    assert Payment.objects.get(order=order).status == Payment.Status.CAPTURED
    assert [c["status"] for c in sandbox.charges_for_order(order.pk)] == ["succeeded"]
    listed_runs = staff_client.get("/api/workflows/", {"status": "compensation_failed"}).json()
    assert [r["id"] for r in listed_runs["results"]] == [str(run.pk)]


def test_metrics_count_the_compensation_failed_runs(failed_refund):
    metrics = APIClient().get("/metrics").content.decode()

    line = 'events_workflow_runs{status="compensation_failed",workflow="orders.fulfillment"} 1.0'
    assert line in metrics
    assert 'events_workflow_runs{status="failed",workflow="orders.fulfillment"} 0.0' in metrics


def test_the_admin_filters_and_shows_it(failed_refund, superuser_client):
    _, run = failed_refund

    filtered = follow_filter(superuser_client, WorkflowRun, "status", "Compensation failed")
    assert listed(filtered) == {run.pk}
    page = superuser_client.get(admin_url(WorkflowRun, "change", run.pk)).content.decode()
    assert "Compensation failed" in page
    assert "charge_payment: GatewayUnavailable" in page
    assert "Steps still in effect (not undone)" in page
    assert "reserve_stock, charge_payment" in page


def test_the_operators_retry_through_the_api_completes_it_once_the_provider_is_back(
    failed_refund, staff_client, customer_client, sandbox, django_capture_on_commit_callbacks
):
    order, run = failed_refund
    sandbox.clear_faults()

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(f"/api/workflows/{run.pk}/retry-compensation/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "compensating"
    assert workflow_compensate(run_id=run.pk).status == WorkflowRun.Status.CANCELLED

    assert steps(run) == {
        "reserve_stock": "compensated",
        "charge_payment": "compensated",
        "create_shipment": "skipped",
        "send_confirmation": "skipped",
        "complete_order": "skipped",
    }
    assert Payment.objects.get(order=order).status == Payment.Status.REFUNDED
    assert Order.objects.get(pk=order.pk).status == Order.Status.CANCELLED
    charge_id = Payment.objects.get(order=order).charge_id
    assert [c["status"] for c in sandbox.charges_for_order(order.pk)] == ["refunded"]
    assert [r["charge_id"] for r in sandbox.refunds()].count(charge_id) == 1
    again = staff_client.post(f"/api/workflows/{run.pk}/retry-compensation/")
    assert again.status_code == 409
    assert "compensation failed" in again.json()["detail"]
    assert customer_client.post(f"/api/workflows/{run.pk}/retry-compensation/").status_code == 403


def test_the_operators_retry_through_the_admin_and_the_command(
    failed_refund, superuser_client, sandbox
):
    _, run = failed_refund
    response = act(superuser_client, WorkflowRun, "retry_compensation", [run])
    assert shown(response) == [("success", "Compensating 1 run(s) again.")]
    run.refresh_from_db()
    assert run.status == "compensating"

    # The provider is still down: the retry fails again, and so ends again.
    workflow_compensate(run_id=run.pk)
    workflow_compensate(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "compensation_failed"

    sandbox.clear_faults()
    out = io.StringIO()
    call_command("workflows", "retry-compensation", str(run.pk), stdout=out)
    assert f"Run {run.pk} is compensating again." in out.getvalue()
    assert workflow_compensate(run_id=run.pk).status == "cancelled"
    with pytest.raises(CommandError, match="Only a run whose compensation failed"):
        call_command("workflows", "retry-compensation", str(run.pk), stdout=io.StringIO())
