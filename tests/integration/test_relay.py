"""The relay on real processes: side by side without double publishing, and across an outage."""

import pytest
from django.db import transaction

from events.models import Event, OutboxEvent
from events.services import event_emit, relay
from orders.models import Order
from tests.factories import order_body
from tests.processes import Relay, broker_outage, clear_broker, queue_depth, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_two_relays_side_by_side_publish_every_event_exactly_once(monkeypatch):
    clear_broker()
    monkeypatch.setattr(relay, "outbox_publish", lambda **kwargs: 0)  # no fast path here
    relays = [Relay(batch_size=1).start(), Relay(batch_size=1).start()]
    for process in relays:
        wait_until(
            lambda p=process: "Relay started" in p.log_path.read_text(),
            timeout=30,
            message="a relay to start",
        )
    # The whole backlog commits at once while both relays poll, and they claim one row at
    # a time: it takes both of them a while, side by side.
    count = 500
    with transaction.atomic():
        for n in range(count):
            event_emit(type="probe.tick", aggregate_id=f"relay-{n % 7}", payload={"n": n})
    try:
        wait_until(
            lambda: not OutboxEvent.objects.pending().exists(),
            timeout=120,
            message="the relays to publish the outbox",
        )
    finally:
        for process in relays:
            process.stop()
    # No worker consumes: every message is still in the queue, once per subscriber.
    messages = count * 2  # probe.first and probe.second
    wait_until(lambda: queue_depth() >= messages, timeout=10, message=f"{messages} messages")
    assert queue_depth() == messages
    assert set(OutboxEvent.objects.values_list("attempts", flat=True)) == {1}
    logs = [p.log_path.read_text() for p in relays]
    assert all("Published" in log for log in logs), "both relays took part"
    clear_broker()


def test_orders_placed_while_the_broker_is_down_wait_in_the_outbox_and_all_go_out_after(
    customer_client, catalog, start_worker
):
    clear_broker()
    with broker_outage():
        responses = [
            customer_client.post("/api/orders/", order_body(("MUG-LOGO", 1)), format="json")
            for _ in range(3)
        ]
        assert [r.status_code for r in responses] == [201, 201, 201]
        assert OutboxEvent.objects.pending().count() == 3
        assert all(row.last_error for row in OutboxEvent.objects.all())

    process = Relay().start()
    try:
        start_worker()
        wait_until(
            lambda: Order.objects.filter(status="fulfilled").count() == 3,
            timeout=120,
            message="the three orders to be fulfilled after the outage",
        )
    finally:
        process.stop()
    assert not OutboxEvent.objects.pending().exists()
    assert Event.objects.filter(type="order.fulfilled").count() == 3
