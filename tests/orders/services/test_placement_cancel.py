"""Cancelling an order: allowed while pending, reserved or paid; what it undoes."""

import pytest
from django.db import transaction

from events.envelope import Envelope
from events.models import Event, StepRun, WorkflowRun
from events.workflows.engine import step_execute, workflow_compensate
from orders.models import Order, Payment, Product
from orders.services.placement import CANNOT_CANCEL
from orders.subscribers import start_fulfillment
from tests.factories import order_body


def place(client, *lines: tuple[str, int]) -> int:  # type: ignore[no-untyped-def]
    response = client.post("/api/orders/", order_body(*lines), format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def event_types(order_id: int) -> list[str]:
    return list(Event.objects.for_aggregate("order", str(order_id)).values_list("type", flat=True))


@pytest.mark.django_db
def test_cancelling_a_pending_order_cancels_it_and_records_the_event(customer_client, catalog):
    order_id = place(customer_client, ("MUG-LOGO", 1))

    response = customer_client.post(f"/api/orders/{order_id}/cancel/")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    assert Order.objects.get(pk=order_id).status == Order.Status.CANCELLED
    assert event_types(order_id) == ["order.placed", "order.cancelled"]
    cancelled = Event.objects.get(type="order.cancelled")
    assert cancelled.sequence == 2
    assert cancelled.payload["reason"] == "customer_request"


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["shipped", "fulfilled", "failed"])
def test_an_order_past_payment_cannot_be_cancelled(customer_client, catalog, status):
    order_id = place(customer_client, ("MUG-LOGO", 1))
    Order.objects.filter(pk=order_id).update(status=status)

    response = customer_client.post(f"/api/orders/{order_id}/cancel/")

    assert response.status_code == 409
    assert response.json() == {
        "detail": CANNOT_CANCEL.format(status=status),
        "code": "conflict",
        "errors": {"status": status},
    }
    assert Order.objects.get(pk=order_id).status == status
    assert event_types(order_id) == ["order.placed"]


@pytest.mark.django_db
def test_cancelling_twice_is_a_conflict_the_second_time(customer_client, catalog):
    order_id = place(customer_client, ("MUG-LOGO", 1))

    first = customer_client.post(f"/api/orders/{order_id}/cancel/")
    second = customer_client.post(f"/api/orders/{order_id}/cancel/")

    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json()["detail"] == CANNOT_CANCEL.format(status="cancelled")
    assert event_types(order_id) == ["order.placed", "order.cancelled"]


def start_run(order_id: int) -> WorkflowRun:
    placed = Event.objects.get(aggregate_id=str(order_id), type="order.placed")
    with transaction.atomic():
        start_fulfillment(Envelope.from_event(placed))
    return WorkflowRun.objects.get(subject_id=str(order_id))


@pytest.mark.django_db(transaction=True)
def test_cancelling_a_paid_order_refunds_it_and_releases_its_stock_once(
    customer_client, catalog, broker, sandbox
):
    initial_stock = Product.objects.get(sku="MUG-LOGO").stock
    order_id = place(customer_client, ("MUG-LOGO", 2))
    run = start_run(order_id)
    assert step_execute(run_id=run.id, step_name="reserve_stock").status == "succeeded"
    assert Product.objects.get(sku="MUG-LOGO").stock == initial_stock - 2
    assert step_execute(run_id=run.id, step_name="charge_payment").status == "succeeded"
    assert Order.objects.get(pk=order_id).status == Order.Status.PAID
    assert broker.steps() == [
        "reserve_stock",
        "charge_payment",
        "create_shipment",
        "send_confirmation",
    ]

    response = customer_client.post(f"/api/orders/{order_id}/cancel/")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    # The refund is not made in the cancelling transaction: the run's compensation task
    # makes it after commit, outside any transaction.
    assert broker.of("events.compensate_workflow") == [{"run_id": str(run.id)}]
    assert Payment.objects.get(order_id=order_id).status == Payment.Status.CAPTURED
    workflow_compensate(run_id=run.id)  # what the worker does with that message
    assert event_types(order_id) == [
        "order.placed",
        "stock.reserved",
        "payment.captured",
        "order.cancelled",
        "payment.refunded",
        "stock.released",
    ]
    assert Product.objects.get(sku="MUG-LOGO").stock == initial_stock
    payment = Payment.objects.get(order_id=order_id)
    assert payment.status == Payment.Status.REFUNDED
    assert sandbox.captures_for_order(order_id) == [
        {**sandbox.captures_for_order(order_id)[0], "id": payment.charge_id, "status": "refunded"}
    ]
    assert [r["charge_id"] for r in sandbox.refunds()].count(payment.charge_id) == 1
    refunded = Event.objects.get(type="payment.refunded", aggregate_id=str(order_id))
    # The refund names whom it went to: the notifications app tells them, knowing no order.
    assert refunded.payload == {
        "order_id": order_id,
        "customer_id": Order.objects.get(pk=order_id).customer_id,
        "amount": str(payment.amount),
        "charge_id": payment.charge_id,
    }
    run.refresh_from_db()
    assert run.status == WorkflowRun.Status.CANCELLED
    assert dict(run.steps.values_list("name", "status")) == {
        "reserve_stock": StepRun.Status.COMPENSATED,
        "charge_payment": StepRun.Status.COMPENSATED,
        "create_shipment": StepRun.Status.SKIPPED,
        "send_confirmation": StepRun.Status.SKIPPED,
        "complete_order": StepRun.Status.SKIPPED,
    }

    # A step message still on its way when the order was cancelled does nothing.
    assert step_execute(run_id=run.id, step_name="create_shipment").status == "not-runnable"
    assert Order.objects.get(pk=order_id).status == Order.Status.CANCELLED
    assert event_types(order_id).count("payment.refunded") == 1
