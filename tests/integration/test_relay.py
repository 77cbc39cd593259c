"""The relay on real processes: side by side without double publishing, and across an outage."""

import uuid

import pytest
from django.db import connection, transaction

from events import subscriptions
from events.models import Event, OutboxEvent
from events.services import event_emit
from orders.models import Order
from tests.factories import order_body
from tests.processes import Relay, broker_outage, clear_broker, queue_depth, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_two_relays_side_by_side_publish_every_event_exactly_once(no_fast_path):
    clear_broker()
    relays = [Relay(batch_size=1).start(), Relay(batch_size=1).start()]
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
    # No worker consumes: every message is still in the queue, once per subscriber (the
    # probe's two and any subscriber of every event).
    messages = count * len(subscriptions.for_event_type("probe.tick"))
    wait_until(lambda: queue_depth() >= messages, timeout=10, message=f"{messages} messages")
    assert queue_depth() == messages
    assert set(OutboxEvent.objects.values_list("attempts", flat=True)) == {1}
    if connection.features.has_select_for_update_skip_locked:
        # Each relay skips the rows the other holds, so both make progress. SQLite admits
        # one writer at a time instead: there the relays take turns at best, and one of them
        # may do all the work while the other waits for the lock.
        logs = [p.log() for p in relays]
        assert all("Published" in log for log in logs), f"both relays took part: {logs}"
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


def test_a_relay_rides_out_a_database_failure_and_publishes_after_it(no_fast_path):
    clear_broker()
    name = f"relay-{uuid.uuid4().hex[:8]}"
    process = Relay(env={"SQLITE_TIMEOUT_SECONDS": "0.5", "PGAPPNAME": name})
    try:
        if connection.vendor == "postgresql":
            # A database restart, as the relay sees it: every connection it holds is cut.
            process.start()
            wait_until(lambda: _relay_listens(name), timeout=30, message="the relay to listen")
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = %s",
                    [name],
                )
            wait_until(
                lambda: "Outbox listener lost" in process.running_log(),
                timeout=30,
                message="the relay to notice",
            )
            wait_until(
                lambda: _relay_listens(name), timeout=30, message="the relay to listen again"
            )
            failure = "Outbox listener lost"
        else:
            # A writer that holds the lock past the relay's busy timeout.
            with transaction.atomic():
                event_emit(type="probe.tick", aggregate_id="relay-db", payload={"n": 0})
            with transaction.atomic():
                event_emit(type="probe.tick", aggregate_id="relay-db-held", payload={"n": 0})
                process.start()
                wait_until(
                    lambda: "Outbox claim failed" in process.running_log(),
                    timeout=30,
                    message="the relay to meet the locked database",
                )
            failure = "Outbox claim failed"
        with transaction.atomic():
            event_emit(type="probe.tick", aggregate_id="relay-db", payload={"n": 1})
        wait_until(
            lambda: not OutboxEvent.objects.pending().exists(),
            timeout=60,
            message="the relay to publish after the failure",
        )
        assert failure in process.running_log()
    finally:
        process.stop()
    # Once to each subscriber of probe.tick.
    messages = OutboxEvent.objects.count() * len(subscriptions.for_event_type("probe.tick"))
    wait_until(lambda: queue_depth() >= messages, timeout=10, message="the published messages")
    assert queue_depth() == messages
    clear_broker()


def _relay_listens(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND query LIKE %s",
            [name, "LISTEN %"],
        )
        return cursor.fetchone()[0] > 0
