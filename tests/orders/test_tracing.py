"""One order's flow: the request that placed it, its callback and its return share one id."""

import uuid

import pytest
from django.core.management import CommandError, call_command

from events.middleware import REQUEST_ID_HEADER
from events.models import Command, Event, WorkflowRun
from orders import gateway
from orders.models import Payment
from tests.factories import order_body
from tests.helpers.fulfillment import fulfillment_run, run_deliveries, run_steps

pytestmark = pytest.mark.django_db


def place(client, request_id: uuid.UUID, token: str = "tok_ok") -> int:  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/orders/",
        order_body(("MUG-LOGO", 1), token=token),
        content_type="application/json",
        headers={REQUEST_ID_HEADER: str(request_id)},
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def order_events(order_id: int) -> list[Event]:
    return list(Event.objects.for_aggregate("order", str(order_id)))


def test_a_callback_continues_the_order_s_flow_and_every_cause_leads_to_a_request(
    broker, customer_client, client, catalog
):
    request_id = uuid.uuid4()
    order_id = place(customer_client, request_id, token="tok_async")
    run_deliveries(order_events(order_id)[0])
    run = fulfillment_run(type("O", (), {"pk": order_id}))
    run_steps(run, "reserve_stock", "charge_payment")
    payment = Payment.objects.get(order_id=order_id, status="pending")

    body = gateway.callback_body(charge_id=payment.charge_id, succeeded=True)
    response = client.post(
        "/api/payments/callback/",
        data=body,
        content_type="application/json",
        headers={gateway.SIGNATURE_HEADER: gateway.sign(body)},
    )
    assert response.status_code == 200, response.content
    callback_id = uuid.UUID(response[REQUEST_ID_HEADER])
    run_steps(run, "create_shipment", "send_confirmation", "complete_order")

    events = order_events(order_id)
    assert [e.type for e in events][-2:] == ["shipment.created", "order.fulfilled"]
    assert {e.correlation_id for e in events} == {request_id}
    captured = next(e for e in events if e.type == "payment.captured")
    assert captured.causation_id == callback_id
    assert Command.objects.get(pk=callback_id).name == "POST /api/payments/callback/"
    assert Command.objects.get(pk=callback_id).correlation_id == request_id
    by_id = {e.id: e for e in events}
    requests = set(Command.objects.values_list("id", flat=True))
    for event in events:  # each chain of causes ends at a request of this flow
        cause = event.causation_id
        while cause in by_id:
            cause = by_id[cause].causation_id
        assert cause in requests, f"{event.type} leads to {cause}"
    assert order_events(order_id)[0].causation_id == request_id
    assert WorkflowRun.objects.get(pk=run.pk).causation_id == events[0].id


def test_orders_are_found_by_the_id_of_the_request_that_placed_them(
    broker, customer_client, superuser_client, catalog
):
    request_id = uuid.uuid4()
    order_id = place(customer_client, request_id)
    place(customer_client, uuid.uuid4())

    listed = customer_client.get("/api/orders/", {"correlation_id": str(request_id)}).json()
    assert [order["id"] for order in listed["results"]] == [order_id]
    assert len(customer_client.get("/api/orders/").json()["results"]) == 2
    bad = customer_client.get("/api/orders/", {"correlation_id": "nope"})
    assert bad.status_code == 400
    assert "correlation_id" in bad.json()["errors"]

    page = superuser_client.get("/admin/orders/order/", {"q": str(request_id)})
    assert page.status_code == 200
    assert list(page.context["cl"].result_list.values_list("pk", flat=True)) == [order_id]


def test_the_trace_command_tells_an_order_s_story(broker, customer_client, catalog, capsys):
    request_id = uuid.uuid4()
    order_id = place(customer_client, request_id)
    placed = order_events(order_id)[0]
    run_deliveries(placed)
    run_steps(fulfillment_run(type("O", (), {"pk": order_id})), "reserve_stock")

    for reference in (str(order_id), f"order:{order_id}", str(request_id), str(placed.id)):
        call_command("events", "trace", reference)
        out = capsys.readouterr().out
        assert out.splitlines()[0] == f"Correlation {request_id}"
        assert f"POST /api/orders/ (request {request_id})" in out
        assert f"order.placed order:{order_id}#1 {placed.id}, caused by request {request_id}" in (
            out
        )
        assert "order.placed to orders.start_fulfillment, attempt 1 succeeded" in out
        assert "orders.fulfillment step reserve_stock: succeeded after 1 attempt" in out
        assert f"stock.reserved order:{order_id}#2" in out


def test_the_trace_command_says_when_it_finds_nothing(db):
    for reference in ("order:999999", str(uuid.uuid4())):
        with pytest.raises(CommandError, match="No events, requests or runs are known by"):
            call_command("events", "trace", reference)
