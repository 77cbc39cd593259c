import pytest
from django.db import connections

from tests.integration.helpers import in_flight
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
