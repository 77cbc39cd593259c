"""The cause travels: into events, task messages, the worker's task, and log lines."""

import uuid

import pytest
from celery import current_app, shared_task
from django.db import transaction

from events import context, dispatch
from events.context import Cause, bound, caused_by, current_cause
from events.services import event_emit
from events.services.relay import outbox_publish
from events.tracing import add_trace_fields

pytestmark = pytest.mark.django_db

SEEN: list[Cause | None] = []
PROBE_TASK = "tests.events.trace_probe"


@shared_task(name=PROBE_TASK)
def trace_probe(**trace: str) -> None:
    """Records the cause it runs under, as a task a worker runs."""
    SEEN.append(current_cause())


def request_cause(request_id: uuid.UUID) -> Cause:
    return Cause(
        correlation_id=request_id, causation_id=request_id, fixed=False, command="POST /x/"
    )


def emit(aggregate_id: str) -> "object":
    with transaction.atomic():
        return event_emit(type="probe.tick", aggregate_id=aggregate_id, payload={"n": 1})


def test_a_fixed_cause_gives_its_correlation_and_causation():
    correlation, causation = uuid.uuid4(), uuid.uuid4()
    with caused_by(correlation_id=correlation, causation_id=causation):
        event = emit("a-1")
    assert (event.correlation_id, event.causation_id) == (correlation, causation)


def test_a_request_starts_a_new_aggregate_s_flow_under_its_own_id():
    request_id = uuid.uuid4()
    with bound(request_cause(request_id)):
        event = emit("a-2")
    assert event.correlation_id == request_id
    assert event.causation_id == request_id


def test_a_request_on_an_aggregate_with_history_continues_its_flow_and_joins_it():
    first = emit("a-3")
    request_id = uuid.uuid4()
    with bound(request_cause(request_id)):
        later = emit("a-3")
        assert current_cause().correlation_id == first.correlation_id  # joined
        assert context.task_kwargs() == {
            "correlation_id": str(first.correlation_id),
            "causation_id": str(request_id),
        }
    assert later.correlation_id == first.correlation_id
    assert later.causation_id == request_id


def test_an_event_with_no_cause_continues_its_aggregate_s_latest_flow():
    first = emit("a-4")
    assert emit("a-4").correlation_id == first.correlation_id
    assert emit("a-5").correlation_id != first.correlation_id


def test_celerys_publisher_adds_the_cause_and_the_worker_restores_it(settings):
    current_app.conf.task_always_eager = True
    SEEN.clear()
    correlation, causation = uuid.uuid4(), uuid.uuid4()
    try:
        with caused_by(correlation_id=correlation, causation_id=causation):
            dispatch.celery_publisher(PROBE_TASK, {}, retry=False)
            assert current_cause().fixed  # the task's cause did not leak out
        dispatch.celery_publisher(PROBE_TASK, {}, retry=False)
    finally:
        current_app.conf.task_always_eager = False
    restored, none = SEEN
    assert restored == Cause(correlation_id=correlation, causation_id=causation, fixed=False)
    assert none is None
    assert current_cause() is None


def test_a_task_message_with_a_bad_cause_runs_without_one():
    assert context.from_task_kwargs({"correlation_id": "garbage"}) is None
    assert context.from_task_kwargs(None) is None


def test_the_relay_sends_each_delivery_under_its_event_s_flow(no_fast_path, broker):
    seen: list[Cause | None] = []
    broker.after_send = lambda task_name, kwargs: seen.append(current_cause())
    event = emit("a-6")
    assert outbox_publish() == 1
    assert seen and all(
        cause.correlation_id == event.correlation_id and cause.causation_id == event.id
        for cause in seen
    )


def test_log_lines_carry_the_cause():
    run_id, request_id = uuid.uuid4(), uuid.uuid4()
    with bound(
        Cause(
            correlation_id=request_id,
            causation_id=request_id,
            fixed=False,
            command="GET /",
            run_id=run_id,
        )
    ):
        fields = add_trace_fields(None, "info", {"event": "hello"})
    assert fields == {
        "event": "hello",
        "correlation_id": str(request_id),
        "causation_id": str(request_id),
        "request_id": str(request_id),
        "run_id": str(run_id),
    }
    assert add_trace_fields(None, "info", {"event": "quiet"}) == {"event": "quiet"}
