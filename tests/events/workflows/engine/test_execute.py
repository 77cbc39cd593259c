"""One try of a step against its run: a stale copy, a subject that moved on.

Each test sets up the rows one moment of a race leaves behind, then runs the step as
the worker would; the real workers are in tests/integration.
"""

import pytest

from events.models import StepRun, WorkflowRun
from events.workflows import StepCancelled
from events.workflows.engine import step_execute, workflow_compensate
from tests.helpers.engine import records, step
from tests.probe.workflows import a, c

pytestmark = pytest.mark.django_db

S = StepRun.Status


def taken_over(run: WorkflowRun) -> None:
    """What a newer try of the step does meanwhile: starts it under its own task id."""
    StepRun.objects.filter(run=run, name=a.name).update(attempts=2, task_id="newer")


@pytest.mark.parametrize("outcome", ["returns", "raises"])
def test_a_stale_try_records_nothing_over_the_try_that_took_the_step_over(
    make_run, monkeypatch, broker, django_capture_on_commit_callbacks, outcome
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
    assert broker.steps() == []


def test_a_step_whose_subject_moved_on_stops_the_run_and_undoes_what_was_done(
    make_run, monkeypatch
):
    run = make_run(S.SUCCEEDED, S.QUEUED)

    def body(ctx):  # type: ignore[no-untyped-def]
        raise StepCancelled("the parcel was cancelled elsewhere")

    monkeypatch.setattr(c, "fn", body)

    assert step_execute(run_id=run.pk, step_name=c.name, task_id="t-1").status == S.SKIPPED
    run.refresh_from_db()
    assert run.status == WorkflowRun.Status.COMPENSATING  # its compensation task is sent
    assert records() == []
    workflow_compensate(run_id=run.pk)

    run.refresh_from_db()
    assert (run.status, run.failure_reason) == (WorkflowRun.Status.CANCELLED, "cancelled")
    assert run.error == f"{c.name}: the parcel was cancelled elsewhere"
    assert run.finished_at is not None
    assert step(run, a.name).status == S.COMPENSATED
    assert step(run, c.name).status == S.SKIPPED
    assert records() == ["undo-a"]
