"""Webhooks end to end: real worker processes send to a real receiver on 127.0.0.1, which
verifies every request with the ``standardwebhooks`` package."""

import random
import threading
from collections import defaultdict

import pytest
from django.db import transaction

from events.services import event_emit
from notifications.models import Notification, WebhookDelivery, WebhookSubscription
from notifications.services import webhook_subscription_create, webhook_test_send
from tests.factories import order_body
from tests.helpers.webhooks import HOSTS_VARIABLE, Received
from tests.integration.helpers import place, timeline, wait_for_status
from tests.processes import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def subscribe(receiver, *, host: str = "127.0.0.1", **fields) -> WebhookSubscription:  # type: ignore[no-untyped-def]
    sub = webhook_subscription_create(url=receiver.url(host=host), **fields)
    receiver.trust(sub.secret)
    return sub


def delivery_of(sub: WebhookSubscription) -> WebhookDelivery:
    return WebhookDelivery.objects.get(subscription=sub)


def finished(delivery: WebhookDelivery, timeout: float = 30) -> WebhookDelivery:
    def done() -> WebhookDelivery | None:
        delivery.refresh_from_db()
        return delivery if delivery.status in ("succeeded", "given_up") else None

    return wait_until(done, timeout=timeout, message=f"delivery {delivery.pk} to finish")  # type: ignore[return-value]


def answers(*statuses: int):  # type: ignore[no-untyped-def]
    """Answer with these statuses in turn, then 200."""
    queue = list(statuses)
    return lambda request: (queue.pop(0) if queue else 200, 0.0)


def test_a_placed_order_reaches_the_receiver_as_signed_deliveries_in_sequence_order(
    webhook_workers, receiver, private_targets, customer_client, catalog
):
    webhook_workers()
    sub = subscribe(receiver, ordered=True, description="warehouse")

    order = place(customer_client, order_body(("MUG-LOGO", 1)))
    wait_for_status(customer_client, order["id"], {"fulfilled"})
    events = timeline(customer_client, order["id"])
    wait_until(
        lambda: len(receiver.succeeded()) == len(events),
        timeout=30,
        message=f"{len(events)} deliveries",
    )

    requests = receiver.requests()
    assert all(r.verified for r in requests), [r.error for r in requests]
    assert [r.envelope["sequence"] for r in requests] == list(range(1, len(events) + 1))
    assert [r.webhook_id for r in requests] == [e["id"] for e in events]
    assert [r.envelope for r in requests] == events  # the envelope the API serves
    assert {r.headers["content-type"] for r in requests} == {"application/json"}
    wait_until(
        lambda: set(sub.deliveries.values_list("status", flat=True)) == {"succeeded"},
        timeout=10,
        message="the last delivery to be recorded",
    )


def test_a_receiver_that_fails_twice_gets_the_delivery_on_the_third_attempt(
    webhook_workers, receiver, private_targets
):
    webhook_workers()
    sub = subscribe(receiver)
    receiver.answer = answers(500, 500)

    with transaction.atomic():
        webhook_test_send(subscription=sub, requested_by="tests")
    delivery = finished(delivery_of(sub))

    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 3, 200)
    log = list(delivery.attempt_log.values_list("number", "status_code"))
    assert log == [(1, 500), (2, 500), (3, 200)]
    requests = receiver.requests()
    assert [r.status for r in requests] == [500, 500, 200]
    assert {r.webhook_id for r in requests} == {str(delivery.event_id)}
    assert all(r.verified for r in requests)
    assert requests[0].envelope["type"] == "webhook.test"


def test_a_receiver_that_always_fails_gets_its_subscription_disabled_and_staff_told(
    webhook_workers, receiver, private_targets, staff
):
    webhook_workers()
    sub = subscribe(receiver, event_types=["probe.tick"])
    receiver.answer = lambda request: (500, 0.0)

    with transaction.atomic():
        for n in range(3):
            event_emit(type="probe.tick", aggregate_id=f"down-{n}", payload={"n": n})

    def disabled() -> bool:
        sub.refresh_from_db()
        return not sub.is_active

    wait_until(disabled, timeout=60, message="the subscription to be disabled")
    wait_until(
        lambda: set(sub.deliveries.values_list("status", flat=True)) == {"given_up"},
        timeout=30,
        message="every delivery to be given up",
    )
    assert sub.disabled_reason == "2 deliveries in a row were given up"
    assert {r.status for r in receiver.requests()} == {500}
    alert = Notification.objects.get(
        user=staff, kind=Notification.Kind.WEBHOOK_DISABLED, channel="in_app"
    )
    assert alert.subject == f"Webhook subscription {sub.pk} was disabled"


def test_a_timeout_counts_as_a_failed_attempt(webhook_workers, receiver, private_targets):
    webhook_workers()
    sub = subscribe(receiver)
    slow_first = iter([(200, 2.5)])  # past the workers' 1 s read timeout
    receiver.answer = lambda request: next(slow_first, (200, 0.0))

    with transaction.atomic():
        webhook_test_send(subscription=sub)
    delivery = finished(delivery_of(sub))

    first, second = delivery.attempt_log.all()
    assert first.status_code is None
    assert first.error.startswith("Timed out: ReadTimeout")
    assert 900 <= first.duration_ms < 2500
    assert (second.status_code, delivery.status) == (200, "succeeded")


def test_ordered_delivery_holds_with_four_workers_while_the_receiver_fails_at_random(
    webhook_workers, receiver, private_targets
):
    webhook_workers(4, concurrency=1, WEBHOOKS_RETRY_SCHEDULE=",".join(["0.1"] * 12))
    subscribe(receiver, ordered=True, event_types=["probe.tick"])
    dice, lock = random.Random(13), threading.Lock()

    def flaky(request: Received) -> tuple[int, float]:
        with lock:
            return (500 if dice.random() < 0.3 else 200), 0.0

    receiver.answer = flaky
    aggregates, per_aggregate = [f"agg-{i}" for i in range(6)], 6
    for n in range(1, per_aggregate + 1):
        with transaction.atomic():
            for aggregate in aggregates:
                event_emit(type="probe.tick", aggregate_id=aggregate, payload={"n": n})
    total = len(aggregates) * per_aggregate
    wait_until(
        lambda: len(receiver.succeeded()) >= total, timeout=120, message=f"{total} deliveries"
    )

    requests = receiver.requests()
    assert any(r.status == 500 for r in requests)  # the receiver did fail along the way
    succeeded: dict[str, set[int]] = defaultdict(set)
    for request in requests:
        aggregate, sequence = request.envelope["aggregate_id"], request.envelope["sequence"]
        missing = set(range(1, sequence)) - succeeded[aggregate]
        assert not missing, f"{aggregate}#{sequence} arrived before {sorted(missing)} succeeded"
        if request.status == 200:
            succeeded[aggregate].add(sequence)
    assert succeeded == {a: set(range(1, per_aggregate + 1)) for a in aggregates}


def test_a_redelivery_carries_the_same_webhook_id(
    webhook_workers, receiver, private_targets, staff_client
):
    webhook_workers()
    sub = subscribe(receiver)
    with transaction.atomic():
        webhook_test_send(subscription=sub)
    delivery = finished(delivery_of(sub))

    response = staff_client.post(f"/api/webhook-deliveries/{delivery.pk}/redeliver/")
    assert response.status_code == 202
    wait_until(lambda: len(receiver.succeeded()) == 2, timeout=30, message="the redelivery")

    first, second = receiver.requests()
    assert first.webhook_id == second.webhook_id == str(delivery.event_id)
    assert first.body == second.body
    assert second.verified
    assert finished(delivery).attempt_log.count() == 2


def test_the_ssrf_guard_holds_at_send_time_when_a_public_looking_host_resolves_to_loopback(
    webhook_workers, receiver, resolve
):
    # At creation the name resolves to a public address, so the subscription is accepted
    # without the setting; the workers, at send time, resolve it to 127.0.0.1.
    resolve({"hooks.example.com": "93.184.215.14"})
    sub = subscribe(receiver, host="hooks.example.com")
    rebinding = {HOSTS_VARIABLE: "hooks.example.com=127.0.0.1"}
    guarded = webhook_workers(WEBHOOKS_ALLOW_PRIVATE_TARGETS="false", **rebinding)

    with transaction.atomic():
        webhook_test_send(subscription=sub)
    refused = finished(delivery_of(sub))

    assert refused.status == "given_up"
    errors = set(refused.attempt_log.values_list("error", flat=True))
    assert errors == {
        "Refused before sending: The host hooks.example.com resolves to 127.0.0.1, a loopback "
        "address: webhooks go to public addresses only."
    }
    assert receiver.requests() == []

    # The same workers' resolution with the setting on: the request goes through, to the
    # address that was checked, under the subscription's host name.
    for worker in guarded:
        worker.stop()
    webhook_workers(WEBHOOKS_ALLOW_PRIVATE_TARGETS="true", **rebinding)
    with transaction.atomic():
        sub.refresh_from_db()
        test = webhook_test_send(subscription=sub)
    assert finished(test).status == "succeeded"
    [request] = receiver.requests()
    assert request.verified
    assert request.headers["host"] == f"hooks.example.com:{receiver.port}"
