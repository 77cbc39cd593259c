"""Cancelling a run: a refusal comes before anything is undone.

Compensations may call the outside world (a refund), which no rollback takes back, so
the calls themselves are recorded here, outside the database.
"""

import pytest

from events import dispatch
from events.models import StepRun, WorkflowRun
from events.workflows import CancelRefused, RunEnded, Workflow, workflow_cancel
from events.workflows.engine import workflow_compensate
from tests.probe.workflows import a, c

pytestmark = pytest.mark.django_db

S = StepRun.Status


@pytest.fixture
def undone(monkeypatch) -> list[str]:  # type: ignore[no-untyped-def]
    """The names of the steps whose compensation was called, in call order."""
    calls: list[str] = []
    for spec in (a, c):
        monkeypatch.setattr(spec, "compensate", lambda ctx, name=spec.name: calls.append(name))
    return calls


@pytest.fixture
def refusing(register_workflow):  # type: ignore[no-untyped-def]
    """A workflow whose subject refuses, as a shipped order does, and one that agrees."""
    may_cancel = {"shipped": False}

    def before_cancel(run: WorkflowRun) -> None:
        if not may_cancel[run.subject_id]:
            raise CancelRefused("already shipped")

    cancelled: list[str] = []
    register_workflow(
        Workflow(
            "tests.cancellable",
            subject_type="parcel",
            stages=[a, c],
            before_cancel=before_cancel,
            on_cancel=lambda run: cancelled.append(run.subject_id),
        )
    )
    return may_cancel, cancelled


def running_run(subject_id: str) -> WorkflowRun:
    run = WorkflowRun.objects.create(
        workflow="tests.cancellable",
        subject_type="parcel",
        subject_id=subject_id,
        status=WorkflowRun.Status.RUNNING,
    )
    StepRun.objects.create(run=run, name=a.name, task_name=a.task_name, stage=0, status=S.SUCCEEDED)
    StepRun.objects.create(run=run, name=c.name, task_name=c.task_name, stage=1, status=S.RUNNING)
    return run


def test_a_refused_cancel_undoes_nothing_and_leaves_the_run_going(refusing, undone):
    _, cancelled = refusing
    run = running_run("shipped")

    with pytest.raises(CancelRefused, match="already shipped"):
        workflow_cancel(run=run)

    assert undone == []
    assert cancelled == []
    run.refresh_from_db()
    assert run.status == WorkflowRun.Status.RUNNING
    assert run.steps.get(name=a.name).status == S.SUCCEEDED


def test_an_accepted_cancel_tells_the_subject_then_its_compensation_undoes_the_steps(
    refusing, undone, broker, django_capture_on_commit_callbacks
):
    may_cancel, cancelled = refusing
    may_cancel["at-the-depot"] = True
    run = running_run("at-the-depot")

    with django_capture_on_commit_callbacks(execute=True):
        workflow_cancel(run=run, reason="customer_request")

    # Claimed: compensating, and nothing undone inside the cancelling transaction.
    assert undone == []
    assert cancelled == ["at-the-depot"]
    run.refresh_from_db()
    assert run.status == WorkflowRun.Status.COMPENSATING
    with pytest.raises(RunEnded):
        workflow_cancel(run=run)  # a second cancel finds it compensating
    assert broker.of(dispatch.COMPENSATE_WORKFLOW) == [{"run_id": str(run.pk)}]
    workflow_compensate(run_id=run.pk)  # the compensation task, outside any transaction

    assert undone == [a.name]  # the running step had done nothing to undo
    run.refresh_from_db()
    assert (run.status, run.failure_reason) == (WorkflowRun.Status.CANCELLED, "customer_request")
    assert run.steps.get(name=a.name).status == S.COMPENSATED


@pytest.mark.parametrize("status", WorkflowRun.TERMINAL)
def test_cancelling_a_run_that_already_ended_is_refused_and_changes_nothing(
    refusing, undone, status
):
    _, cancelled = refusing
    run = running_run("at-the-depot")
    WorkflowRun.objects.filter(pk=run.pk).update(status=status)

    with pytest.raises(RunEnded) as refused:
        workflow_cancel(run=run)

    assert refused.value.status == status
    assert isinstance(refused.value, CancelRefused)  # callers that refuse a cancel catch it
    assert (undone, cancelled) == ([], [])
    run.refresh_from_db()
    assert run.status == status
    assert run.steps.get(name=a.name).status == S.SUCCEEDED
