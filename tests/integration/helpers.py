"""What several end-to-end tests do: place orders through the API, start probe runs, wait.

The waiting is on real worker processes (see tests/processes.py).
"""

import pytest
from django.db import transaction
from django.db.models import Exists, OuterRef

from events import subscriptions
from events.models import Delivery, Event, OutboxEvent, StepRun, WorkflowRun
from events.workflows import workflow_start
from tests.probe.models import Record
from tests.processes import broker_redelivers, wait_until

# The two ways a killed worker's task comes back, each tested where it is the mechanism.
redelivering_broker = pytest.mark.skipif(
    not broker_redelivers(),
    reason="the filesystem broker cannot redeliver a killed worker's message (the watchdog does)",
)
filesystem_broker = pytest.mark.skipif(
    broker_redelivers(),
    reason="RabbitMQ and Redis redeliver a killed worker's message themselves (late acks)",
)

# --- Orders, through the API --------------------------------------------------------------


def place(client, body: dict) -> dict:  # type: ignore[no-untyped-def]
    response = client.post("/api/orders/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def wait_for_status(client, order_id: int, statuses: set[str], timeout: float = 60) -> dict:  # type: ignore[no-untyped-def]
    def current() -> dict | None:
        order = client.get(f"/api/orders/{order_id}/").json()
        return order if order["status"] in statuses else None

    return wait_until(current, timeout=timeout, message=f"order {order_id} to reach {statuses}")  # type: ignore[return-value]


def timeline(client, order_id: int) -> list[dict]:  # type: ignore[no-untyped-def]
    response = client.get(f"/api/orders/{order_id}/events/")
    assert response.status_code == 200
    return response.json()


def assert_gapless(events: list[dict]) -> None:
    assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))


# --- Probe workflow runs -----------------------------------------------------------------


def start(workflow: str, subject: str, **inputs) -> WorkflowRun:  # type: ignore[no-untyped-def]
    with transaction.atomic():
        return workflow_start(workflow=workflow, subject_id=subject, input=inputs)


def finished(run: WorkflowRun, timeout: float = 60) -> WorkflowRun:
    def done() -> WorkflowRun | None:
        run.refresh_from_db()
        return run if run.is_terminal else None

    return wait_until(done, timeout=timeout, message=f"run {run.pk} to finish")  # type: ignore[return-value]


def recorded(subject: str) -> list[str]:
    """What the probe steps did for ``subject``, in order."""
    return list(
        Record.objects.filter(aggregate_id=subject)
        .order_by("id")
        .values_list("subscriber", flat=True)
    )


def in_flight() -> list[str]:
    """What is still moving: unpublished events, missing or unfinished deliveries, runs."""
    expected_deliveries = sum(
        len(subscriptions.for_event_type(event_type))
        for event_type in Event.objects.values_list("type", flat=True)
    )
    moving = []
    if pending := OutboxEvent.objects.pending().count():
        moving.append(f"{pending} unpublished events")
    if (made := Delivery.objects.count()) != expected_deliveries:
        moving.append(f"{made} of {expected_deliveries} deliveries dispatched")
    unfinished = Delivery.objects.exclude(status__in=["succeeded", "dead", "discarded"])
    moving += [f"delivery {d}" for d in unfinished]
    # A running run with a step waiting for a signal is parked, not moving.
    waiting = StepRun.objects.filter(run=OuterRef("pk"), status="waiting")
    runs = WorkflowRun.objects.filter(status__in=["running", "compensating"]).exclude(
        Exists(waiting), status="running"
    )
    moving += [f"run {r}" for r in runs]
    steps = StepRun.objects.filter(status__in=["queued", "running", "retrying"])
    moving += [f"step {s.run_id}:{s}" for s in steps]
    return moving
