"""A step that failed for good: its run fails, and is undone unless past its point of no return."""

import pytest

from events import dispatch
from events.models import StepRun, WorkflowRun
from events.workflows import StepFailed, Workflow, unregister, workflow_retry
from events.workflows.engine import step_execute
from tests.helpers.engine import records, step
from tests.probe.workflows import a, c

pytestmark = pytest.mark.django_db

S = StepRun.Status


def test_a_failure_past_the_point_of_no_return_fails_the_run_and_undoes_nothing(
    make_run, monkeypatch, broker, register_workflow, django_capture_on_commit_callbacks
):
    unregister("tests.two_steps")
    register_workflow(
        Workflow("tests.two_steps", subject_type="parcel", stages=[a, c], point_of_no_return=a)
    )

    def refuses(ctx):  # type: ignore[no-untyped-def]
        raise StepFailed("c_refused")

    monkeypatch.setattr(c, "fn", refuses)
    run = make_run(S.SUCCEEDED, S.QUEUED)

    with django_capture_on_commit_callbacks(execute=True):
        assert step_execute(run_id=run.pk, step_name=c.name, task_id="t-1").status == S.FAILED

    assert broker.of(dispatch.COMPENSATE_WORKFLOW) == []  # no compensation sent
    run.refresh_from_db()
    assert (run.status, run.failure_reason) == (WorkflowRun.Status.FAILED, "c_refused")
    assert run.finished_at is not None
    assert (step(run, a.name).status, step(run, c.name).status) == (S.SUCCEEDED, S.FAILED)
    assert records() == []

    with django_capture_on_commit_callbacks(execute=True):
        workflow_retry(run=run)

    assert broker.steps() == [c.name]  # resumed from its failed step; a stays done
    assert step(run, a.name).status == S.SUCCEEDED
