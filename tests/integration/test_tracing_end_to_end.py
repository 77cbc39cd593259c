"""One order's story traced across real processes: web, relay and worker.

The request id sent with ``POST /api/orders/`` is the correlation id of everything the
order goes through, its asynchronous payment's callback and its return included: in each
stored event, in the JSON log lines of the three processes, in the task messages, and in
``manage.py events trace``. Each event's causation leads back to a request.
"""

import json
import subprocess
import uuid

import httpx
import pytest
from django_celery_results.models import TaskResult

from events.models import Command, Event
from orders import gateway
from orders.models import Payment, Return
from tests.factories import make_user, order_body
from tests.processes import (
    BIN,
    ROOT,
    Relay,
    WebServer,
    Worker,
    clear_broker,
    process_env,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# JSON lines at INFO; only the relay publishes, so each event goes through its log too.
TRACED = {"LOG_LEVEL": "INFO", "LOG_FORMAT": "json", "EVENTS_PUBLISH_ON_COMMIT": "false"}


@pytest.fixture
def system(django_db_blocker):  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():
        clear_broker()
        processes = [Worker(env=TRACED), Relay(env=TRACED), WebServer(env=TRACED)]
        try:
            for process in processes:
                process.start()
            yield processes
        finally:
            for process in processes:
                process.stop()


def token_for(username: str, *, staff: bool = False) -> dict[str, str]:
    from rest_framework.authtoken.models import Token

    user = make_user(username, staff=staff)
    return {"Authorization": f"Token {Token.objects.create(user=user).key}"}


def lines_of(log: str) -> list[dict]:
    """The JSON lines of a process's log (a worker also prints its banner as text)."""
    found = []
    for line in log.splitlines():
        try:
            found.append(json.loads(line))
        except ValueError:
            continue
    return found


def order_events(order_id: int) -> list[Event]:
    return list(Event.objects.for_aggregate("order", str(order_id)))


def test_an_orders_request_id_follows_it_everywhere(system, catalog, wait_settled):
    worker, relay, web = system
    alice, staff = token_for("alice"), token_for("admin", staff=True)
    request_id = uuid.uuid4()
    http = httpx.Client(base_url=web.url, timeout=30)

    placed = http.post(
        "/api/orders/",
        json=order_body(("CAP-NAVY", 1), token="tok_async"),
        headers={**alice, "X-Request-ID": str(request_id)},
    )
    assert placed.status_code == 201, placed.text
    assert placed.headers["X-Request-ID"] == str(request_id)
    order_id = placed.json()["id"]

    payment = wait_until(
        lambda: Payment.objects.filter(order_id=order_id, status="pending").first(),
        timeout=60,
        message="the charge to wait for the gateway",
    )
    body = gateway.callback_body(charge_id=payment.charge_id, succeeded=True)
    confirmed = http.post(
        "/api/payments/callback/",
        content=body,
        headers={"Content-Type": "application/json", gateway.SIGNATURE_HEADER: gateway.sign(body)},
    )
    assert confirmed.status_code == 200, confirmed.text
    callback_id = uuid.UUID(confirmed.headers["X-Request-ID"])
    wait_until(
        lambda: http.get(f"/api/orders/{order_id}/", headers=alice).json()["status"] == "fulfilled",
        timeout=60,
        message="the order to be fulfilled",
    )

    returned = http.post(f"/api/orders/{order_id}/return/", json={}, headers=alice)
    assert returned.status_code == 201, returned.text
    return_id = returned.json()["id"]
    wait_until(
        lambda: Return.objects.filter(pk=return_id, status="awaiting_parcel").exists(),
        timeout=60,
        message="the return to wait for its parcel",
    )
    received = http.post(f"/api/returns/{return_id}/receive/", headers=staff)
    assert received.status_code == 200, received.text
    wait_until(
        lambda: Return.objects.filter(pk=return_id, status="completed").exists(),
        timeout=60,
        message="the return to complete",
    )
    wait_settled()

    # Every stored event of the order, after the callback and the return too.
    events = order_events(order_id)
    types = [event.type for event in events]
    assert {"payment.captured", "order.fulfilled", "return.received", "return.completed"} <= set(
        types
    )
    assert {event.correlation_id for event in events} == {request_id}, types

    # Each event's causation leads, event by event, to a request of this flow.
    commands = {command.id: command for command in Command.objects.all()}
    assert events[0].causation_id == request_id
    assert commands[request_id].name == "POST /api/orders/"
    assert commands[callback_id].name == "POST /api/payments/callback/"
    by_id = {event.id: event for event in events}
    for event in events:
        cause = event.causation_id
        while cause in by_id:
            cause = by_id[cause].causation_id
        assert cause in commands, f"{event.type} does not lead to a request"
        assert commands[cause].correlation_id == request_id

    # The logs of the three processes.
    traced = str(request_id)
    web_lines = [line for line in lines_of(web.log()) if line.get("correlation_id") == traced]
    assert {line.get("path") for line in web_lines} >= {
        "/api/orders/",
        "/api/payments/callback/",
        f"/api/orders/{order_id}/return/",
    }
    assert any(line.get("request_id") == str(callback_id) for line in web_lines)
    relay_lines = [line for line in lines_of(relay.log()) if line.get("correlation_id") == traced]
    published = " ".join(line["event"] for line in relay_lines)
    assert all(event_type in published for event_type in set(types)), published
    worker_lines = [
        line
        for line in lines_of(worker.log_path.read_text())
        if line.get("correlation_id") == traced
    ]
    tasks = {line.get("task") for line in worker_lines if line.get("task_id")}
    assert {"events.deliver", "orders.create_shipment", "orders.restock_return"} <= tasks, tasks

    # The task messages carry it in their kwargs (as Flower shows them).
    shipment = TaskResult.objects.filter(task_name="orders.create_shipment").get()
    assert f"'correlation_id': '{traced}'" in shipment.task_kwargs

    # And the story, from the command line.
    story = subprocess.run(
        [str(BIN / "python"), "manage.py", "events", "trace", str(order_id)],
        cwd=ROOT,
        env=process_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert story.splitlines()[0] == f"Correlation {request_id}"
    for expected in (
        f"POST /api/orders/ (request {request_id})",
        f"POST /api/payments/callback/ (request {callback_id})",
        f"POST /api/orders/{order_id}/return/",
        f"payment.captured order:{order_id}",
        "orders.fulfillment step create_shipment: succeeded",
        "orders.returns step restock: succeeded",
        "return.completed to ",
    ):
        assert expected in story, story
