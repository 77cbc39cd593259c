"""Outside work that finished after its run stopped: recorded, then undone by a task of its own.

The rows are those the race leaves; the real workers are in tests/integration.
"""

import pytest

from events import dispatch
from events.models import StepRun, WorkflowRun
from events.workflows import workflow_cancel
from events.workflows.engine import step_compensate, step_execute, workflow_compensate
from tests.helpers.engine import records, step
from tests.probe.workflows import c

pytestmark = pytest.mark.django_db

S = StepRun.Status


def test_outside_work_that_finishes_after_its_run_was_cancelled_is_undone_after(
    make_run, monkeypatch, broker, django_capture_on_commit_callbacks
):
    run = make_run(S.SUCCEEDED, S.QUEUED)
    real_body = c.fn

    def body(ctx):  # type: ignore[no-untyped-def]
        real_body(ctx)  # the outside call went through...
        workflow_cancel(run=WorkflowRun.objects.get(pk=run.pk))  # ...while a cancel came in
        workflow_compensate(run_id=run.pk)  # ...and its compensation ended the run
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
    assert broker.of(dispatch.COMPENSATE_STEP) == [{"run_id": str(run.pk), "step": c.name}]
    # The cancel undid a (c was still running then); c's own undo is a task of its own.
    assert records() == ["c", "undo-a"]

    assert step_compensate(run_id=run.pk, step_name=c.name) is None
    assert step_compensate(run_id=run.pk, step_name=c.name) is None
    assert step(run, c.name).status == S.COMPENSATED
    assert records() == ["c", "undo-a", "undo-c"]


def test_outside_work_that_finishes_while_its_run_compensates_is_undone_by_that_compensation(
    make_run, monkeypatch, broker, django_capture_on_commit_callbacks
):
    run = make_run(S.SUCCEEDED, S.QUEUED)
    real_body = c.fn

    def body(ctx):  # type: ignore[no-untyped-def]
        real_body(ctx)
        workflow_cancel(run=WorkflowRun.objects.get(pk=run.pk))  # claimed, not yet undone
        return {"c": "done"}

    monkeypatch.setattr(c, "fn", body)
    monkeypatch.setattr(c, "atomic", False)
    with django_capture_on_commit_callbacks(execute=True):
        assert step_execute(run_id=run.pk, step_name=c.name, task_id="t-1").status == "late"
    run.refresh_from_db()
    assert run.status == WorkflowRun.Status.COMPENSATING

    workflow_compensate(run_id=run.pk)

    run.refresh_from_db()
    assert run.status == WorkflowRun.Status.CANCELLED
    assert records() == ["c", "undo-c", "undo-a"]  # newest first, each once
    assert step_compensate(run_id=run.pk, step_name=c.name) is None  # nothing left to undo
    assert records() == ["c", "undo-c", "undo-a"]
