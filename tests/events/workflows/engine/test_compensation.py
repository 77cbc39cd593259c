"""A run's compensation: outside any transaction, one step at a time, and it ends.

Each compensation is called with no transaction open (its outside call may not be
rolled back), its step recorded undone in a transaction of its own; one that keeps
failing ends the run ``compensation_failed`` until an operator retries it.
"""

import pytest
from django.db import transaction

from events.models import StepRun, WorkflowRun
from events.workflows import StepFailed, WorkflowNotRetryable
from events.workflows.engine import workflow_compensate, workflow_retry_compensation
from tests.helpers.engine import step
from tests.probe.workflows import a, c

pytestmark = pytest.mark.django_db

S = StepRun.Status


def compensating(make_run) -> WorkflowRun:  # type: ignore[no-untyped-def]
    run = make_run(S.SUCCEEDED, S.SUCCEEDED)
    WorkflowRun.objects.filter(pk=run.pk).update(
        status=WorkflowRun.Status.COMPENSATING, compensation_ends_as=WorkflowRun.Status.FAILED
    )
    return run


@pytest.fixture
def calls(monkeypatch) -> dict:  # type: ignore[no-untyped-def]
    """Each step's compensation records whether a transaction was open around it, and
    fails while ``calls["failing"]`` names its step (with ``calls["error"]``)."""
    state: dict = {"order": [], "in_transaction": [], "failing": set(), "error": None}

    def undo(ctx, name):  # type: ignore[no-untyped-def]
        try:  # Django refuses a durable block inside any atomic block but the test's own
            with transaction.atomic(durable=True):
                state["in_transaction"].append(False)
        except RuntimeError:
            state["in_transaction"].append(True)
        if name in state["failing"]:
            raise state["error"] or ConnectionError(f"{name}: the provider is down")
        state["order"].append(name)

    for spec in (a, c):
        monkeypatch.setattr(spec, "compensate", lambda ctx, name=spec.name: undo(ctx, name))
    return state


def test_each_compensation_runs_outside_any_transaction_newest_first(make_run, calls):
    run = compensating(make_run)

    outcome = workflow_compensate(run_id=run.pk)

    assert (outcome.status, outcome.retry_in) == (WorkflowRun.Status.FAILED, None)
    assert calls["order"] == [c.name, a.name]
    assert calls["in_transaction"] == [False, False]
    assert (step(run, a.name).status, step(run, c.name).status) == (S.COMPENSATED, S.COMPENSATED)


def test_a_failing_compensation_keeps_what_was_undone_and_is_tried_again(make_run, calls):
    run = compensating(make_run)
    calls["failing"] = {a.name}

    outcome = workflow_compensate(run_id=run.pk)

    assert outcome.status == WorkflowRun.Status.COMPENSATING
    assert outcome.retry_in is not None and outcome.retry_in > 0
    run.refresh_from_db()
    assert run.compensation_attempts == 1
    assert run.compensation_error == f"{a.name}: ConnectionError: {a.name}: the provider is down"
    assert (step(run, a.name).status, step(run, c.name).status) == (S.SUCCEEDED, S.COMPENSATED)

    calls["failing"] = set()
    assert workflow_compensate(run_id=run.pk).status == WorkflowRun.Status.FAILED
    assert calls["order"] == [c.name, a.name]  # c was not undone twice


def test_a_compensation_out_of_tries_ends_the_run_compensation_failed(make_run, calls, settings):
    settings.EVENTS = {**settings.EVENTS, "COMPENSATION_MAX_ATTEMPTS": 3}
    run = compensating(make_run)
    calls["failing"] = {a.name}

    outcomes = [workflow_compensate(run_id=run.pk) for _ in range(4)]

    assert [o.status for o in outcomes] == ["compensating", "compensating"] + [
        "compensation_failed"
    ] * 2
    assert outcomes[2].retry_in is None  # nothing more is sent
    run.refresh_from_db()
    assert run.is_terminal
    assert run.finished_at is not None
    assert run.compensation_attempts == 3
    assert a.name in run.compensation_error
    assert calls["order"] == [c.name]


def test_a_compensation_that_cannot_succeed_fails_the_run_at_once(make_run, calls):
    run = compensating(make_run)
    calls["failing"] = {c.name}
    calls["error"] = StepFailed("refund_refused", "the provider refused the refund")

    assert workflow_compensate(run_id=run.pk).status == WorkflowRun.Status.COMPENSATION_FAILED

    run.refresh_from_db()
    assert run.compensation_attempts == 1
    assert (step(run, a.name).status, step(run, c.name).status) == (S.SUCCEEDED, S.SUCCEEDED)


def test_an_operator_retries_a_failed_compensation_and_it_completes(
    make_run, calls, broker, django_capture_on_commit_callbacks
):
    run = compensating(make_run)
    calls["failing"] = {a.name}
    calls["error"] = StepFailed("refused", "no")
    workflow_compensate(run_id=run.pk)
    with pytest.raises(WorkflowNotRetryable):
        workflow_retry_compensation(run=WorkflowRun.objects.get(pk=c_run(make_run).pk))

    calls["failing"] = set()
    with django_capture_on_commit_callbacks(execute=True):
        retried = workflow_retry_compensation(run=run)

    assert (retried.status, retried.compensation_attempts) == ("compensating", 0)
    assert broker.of("events.compensate_workflow") == [{"run_id": str(run.pk)}]
    assert workflow_compensate(run_id=run.pk).status == WorkflowRun.Status.FAILED
    assert calls["order"] == [c.name, a.name]


def c_run(make_run) -> WorkflowRun:  # type: ignore[no-untyped-def]
    """A run that is still running: its compensation cannot be retried."""
    return make_run(S.SUCCEEDED, S.RUNNING, subject="p-running")


def test_a_run_no_longer_compensating_is_left_alone(make_run, calls):
    run = make_run(S.SUCCEEDED, S.SUCCEEDED)  # running

    assert workflow_compensate(run_id=run.pk).status == WorkflowRun.Status.RUNNING
    assert calls["order"] == []
