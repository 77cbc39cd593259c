"""A step's tries against its run: stale copies, a subject gone, work finished too late.

Each test sets up the rows one moment of a race leaves behind, then runs the step (or
the watchdog) as the worker would; the real workers are in tests/integration.
"""

import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

import events.tasks
from events.models import StepRun, WorkflowRun
from events.workflows import (
    StepCancelled,
    StepFailed,
    Workflow,
    engine,
    workflow_cancel,
    workflow_retry,
)
from events.workflows import definition as workflows
from events.workflows.engine import step_compensate, step_execute, workflow_resume_stalled
from tests.probe.models import Record
from tests.probe.workflows import a, c

pytestmark = pytest.mark.django_db

S = StepRun.Status


@pytest.fixture(autouse=True)
def two_steps(monkeypatch):  # type: ignore[no-untyped-def]
    workflow = Workflow("tests.two_steps", subject_type="parcel", stages=[a, c])
    monkeypatch.setitem(workflows._workflows, workflow.name, workflow)


@pytest.fixture
def sent(monkeypatch) -> list[str]:  # type: ignore[no-untyped-def]
    """The steps whose task was sent, in order."""
    calls: list[str] = []
    monkeypatch.setattr(engine, "_send", lambda spec, run_id, step_name: calls.append(step_name))
    return calls


def make_run(a_status: str, c_status: str, subject: str = "p-1", **c_fields) -> WorkflowRun:  # type: ignore[no-untyped-def]
    run = WorkflowRun.objects.create(
        workflow="tests.two_steps",
        subject_type="parcel",
        subject_id=subject,
        status=WorkflowRun.Status.RUNNING,
    )
    StepRun.objects.create(run=run, name=a.name, task_name=a.task_name, stage=0, status=a_status)
    StepRun.objects.create(
        run=run, name=c.name, task_name=c.task_name, stage=1, status=c_status, **c_fields
    )
    return run


def step(run: WorkflowRun, name: str) -> StepRun:
    return run.steps.get(name=name)


def records() -> list[str]:
    return list(Record.objects.order_by("id").values_list("subscriber", flat=True))


def taken_over(run: WorkflowRun) -> None:
    """What a newer try of the step does meanwhile: starts it under its own task id."""
    StepRun.objects.filter(run=run, name=a.name).update(attempts=2, task_id="newer")


@pytest.mark.parametrize("outcome", ["returns", "raises"])
def test_a_stale_try_records_nothing_over_the_try_that_took_the_step_over(
    monkeypatch, sent, django_capture_on_commit_callbacks, outcome
):
    run = make_run(S.QUEUED, S.PENDING)

    def body(ctx):  # type: ignore[no-untyped-def]
        taken_over(run)
        if outcome == "raises":
            raise ConnectionError("the stale try fails late")
        return {"a": "stale"}

    monkeypatch.setattr(a, "fn", body)
    monkeypatch.setattr(a, "atomic", False)

    with django_capture_on_commit_callbacks(execute=True):
        result = step_execute(run_id=run.pk, step_name=a.name, task_id="stale")

    assert result.status == "superseded"
    row = step(run, a.name)
    assert (row.status, row.task_id, row.attempts, row.result) == (S.RUNNING, "newer", 2, None)
    assert step(run, c.name).status == S.PENDING  # the run did not move on
    assert sent == []


def test_a_step_whose_subject_moved_on_stops_the_run_and_undoes_what_was_done(monkeypatch):
    run = make_run(S.SUCCEEDED, S.QUEUED)

    def body(ctx):  # type: ignore[no-untyped-def]
        raise StepCancelled("the parcel was cancelled elsewhere")

    monkeypatch.setattr(c, "fn", body)

    assert step_execute(run_id=run.pk, step_name=c.name, task_id="t-1").status == S.SKIPPED

    run.refresh_from_db()
    assert (run.status, run.failure_reason) == (WorkflowRun.Status.CANCELLED, "cancelled")
    assert run.error == f"{c.name}: the parcel was cancelled elsewhere"
    assert run.finished_at is not None
    assert step(run, a.name).status == S.COMPENSATED
    assert step(run, c.name).status == S.SKIPPED
    assert records() == ["undo-a"]


@pytest.fixture
def compensations(monkeypatch) -> list[dict]:  # type: ignore[no-untyped-def]
    """The ``events.compensate_step`` messages sent, in order."""
    calls: list[dict] = []
    monkeypatch.setattr(
        events.tasks, "compensate_step", SimpleNamespace(delay=lambda **kw: calls.append(kw))
    )
    return calls


def test_outside_work_that_finishes_after_its_run_was_cancelled_is_undone_after(
    monkeypatch, compensations, django_capture_on_commit_callbacks
):
    run = make_run(S.SUCCEEDED, S.QUEUED)
    real_body = c.fn

    def body(ctx):  # type: ignore[no-untyped-def]
        real_body(ctx)  # the outside call went through...
        workflow_cancel(run=WorkflowRun.objects.get(pk=run.pk))  # ...while a cancel came in
        return {"c": "done"}

    monkeypatch.setattr(c, "fn", body)
    monkeypatch.setattr(c, "atomic", False)

    with django_capture_on_commit_callbacks(execute=True):
        assert step_execute(run_id=run.pk, step_name=c.name, task_id="t-1").status == "late"

    run.refresh_from_db()
    assert run.status == WorkflowRun.Status.CANCELLED
    late = step(run, c.name)
    assert (late.status, late.result) == (S.SUCCEEDED, {"c": "done"})
    assert late.error == "Finished after its run became cancelled. Its compensation undoes it."
    assert compensations == [{"run_id": str(run.pk), "step": c.name}]
    # The cancel undid a (c was still running then); c's own undo is a task of its own.
    assert records() == ["c", "undo-a"]

    assert step_compensate(run_id=run.pk, step_name=c.name).status == S.COMPENSATED
    assert step_compensate(run_id=run.pk, step_name=c.name).status == S.COMPENSATED
    assert records() == ["c", "undo-a", "undo-c"]


def test_an_undo_that_fails_is_sent_again_until_it_goes_through(
    monkeypatch, compensations, django_capture_on_commit_callbacks
):
    run = make_run(S.COMPENSATED, S.SUCCEEDED, retry_at=timezone.now())
    WorkflowRun.objects.filter(pk=run.pk).update(status=WorkflowRun.Status.CANCELLED)
    outage = {"down": True}

    def undo_c(ctx):  # type: ignore[no-untyped-def]
        if outage["down"]:
            raise ConnectionError("the carrier is down")
        Record.objects.create(
            subscriber="undo-c", aggregate_id=ctx.subject_id, sequence=1, event_id=uuid.uuid4()
        )

    monkeypatch.setattr(c, "compensate", undo_c)

    with pytest.raises(ConnectionError):
        step_compensate(run_id=run.pk, step_name=c.name)
    assert step(run, c.name).status == S.SUCCEEDED  # still in effect

    with django_capture_on_commit_callbacks(execute=True):
        assert workflow_resume_stalled() == 0  # not overdue yet
    StepRun.objects.filter(run=run, name=c.name).update(
        retry_at=timezone.now() - timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert workflow_resume_stalled() == 1
        assert workflow_resume_stalled() == 0  # sent once per stall period
    assert compensations == [{"run_id": str(run.pk), "step": c.name}]

    outage["down"] = False
    assert step_compensate(run_id=run.pk, step_name=c.name).status == S.COMPENSATED
    assert records() == ["undo-c"]


def test_a_retry_whose_message_was_lost_is_queued_again_once_it_is_long_overdue(
    sent, django_capture_on_commit_callbacks
):
    stall = timedelta(seconds=engine.events_settings.WORKFLOW_STALL_SECONDS)
    lost = make_run(S.SUCCEEDED, S.RETRYING, retry_at=timezone.now() - stall - timedelta(1))
    on_time = make_run(S.SUCCEEDED, S.RETRYING, "p-2", retry_at=timezone.now() + timedelta(1))

    with django_capture_on_commit_callbacks(execute=True):
        assert workflow_resume_stalled() == 1

    assert sent == [c.name]
    assert step(lost, c.name).status == S.QUEUED
    assert step(on_time, c.name).status == S.RETRYING
    with django_capture_on_commit_callbacks(execute=True):
        assert workflow_resume_stalled() == 0  # queued just now: not stalled again yet


def test_a_failure_past_the_point_of_no_return_fails_the_run_and_undoes_nothing(
    monkeypatch, sent, compensations, django_capture_on_commit_callbacks
):
    workflow = Workflow(
        "tests.two_steps", subject_type="parcel", stages=[a, c], point_of_no_return=a
    )
    monkeypatch.setitem(workflows._workflows, workflow.name, workflow)

    def refuses(ctx):  # type: ignore[no-untyped-def]
        raise StepFailed("c_refused")

    monkeypatch.setattr(c, "fn", refuses)
    run = make_run(S.SUCCEEDED, S.QUEUED)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert step_execute(run_id=run.pk, step_name=c.name, task_id="t-1").status == S.FAILED

    assert callbacks == []  # no compensation sent
    run.refresh_from_db()
    assert (run.status, run.failure_reason) == (WorkflowRun.Status.FAILED, "c_refused")
    assert run.finished_at is not None
    assert (step(run, a.name).status, step(run, c.name).status) == (S.SUCCEEDED, S.FAILED)
    assert records() == []

    with django_capture_on_commit_callbacks(execute=True):
        workflow_retry(run=run)

    assert sent == [c.name]  # resumed from its failed step; a stays done
    assert step(run, a.name).status == S.SUCCEEDED
