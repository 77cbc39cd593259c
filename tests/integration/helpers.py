"""What several end-to-end tests do: place orders through the API, start probe runs, wait.

The waiting is on real worker processes (see tests/processes.py).
"""

from django.db import transaction

from events.models import WorkflowRun
from events.workflows import workflow_start
from tests.probe.models import Record
from tests.processes import wait_until

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
