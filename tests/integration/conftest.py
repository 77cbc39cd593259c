import pytest
from django.db import connections
from django.db.models import Exists, OuterRef

from events import subscriptions
from events.models import Delivery, Event, OutboxEvent, StepRun, WorkflowRun
from tests.processes import LIVE_WORKERS, Worker, clear_broker, wait_until


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """A real ``celery worker`` (two pool processes) on the test database and broker.

    One per test module, so a module that needs workers of its own has only those.
    """
    with django_db_blocker.unblock():
        clear_broker()
        process = Worker(concurrency=2).start()
    yield process
    process.stop()
    with django_db_blocker.unblock():
        connections.close_all()


@pytest.fixture
def start_worker(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """Start extra workers with their own environment; stopped after the test."""
    started: list[Worker] = []

    def start(count: int = 1, **kwargs) -> list[Worker]:  # type: ignore[no-untyped-def]
        """Launch ``count`` workers at once and wait until each answers."""
        processes = [Worker(**kwargs).launch() for _ in range(count)]
        started.extend(processes)
        with django_db_blocker.unblock():
            for process in processes:
                process.wait_ready()
        return processes

    yield start
    for process in started:
        process.stop()


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


@pytest.fixture
def wait_settled():  # type: ignore[no-untyped-def]
    def wait(timeout: float = 60) -> None:
        try:
            wait_until(lambda: not in_flight(), timeout=timeout, message="the system to settle")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; still in flight: {in_flight()}") from None

    return wait


@pytest.fixture(autouse=True)
def settle_before_flush(transactional_db):  # type: ignore[no-untyped-def]
    """Let live workers finish what a test set going before its tables are emptied.

    A worker still writing while the flush truncates the tables can deadlock with it, and
    its late writes would leak into the next test.
    """
    yield
    if LIVE_WORKERS:
        try:
            wait_until(lambda: not in_flight(), timeout=30, message="the workers to settle")
        except AssertionError as exc:
            raise AssertionError(f"The test left work behind: {in_flight()}") from exc
