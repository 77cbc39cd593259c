"""The workflow engine on real worker processes: retries, limits, compensation, steering."""

import pytest

from events.models import StepRun, WorkflowRun
from events.workflows import workflow_signal
from tests.integration.helpers import finished, recorded, start
from tests.probe.models import Switch
from tests.processes import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def steps(run: WorkflowRun) -> dict[str, StepRun]:
    return {s.name: s for s in run.steps.all()}


def test_a_transient_failure_is_retried_until_the_step_succeeds(worker):
    run = finished(start("probe.flow", "transient", b_transient=2))

    assert run.status == "succeeded"
    assert steps(run)["b"].attempts == 3
    assert recorded("transient").count("b") == 1


def test_a_transient_failure_that_never_heals_exhausts_the_policy_and_compensates(worker):
    run = finished(start("probe.flow", "exhausted", b_transient=99))

    assert (run.status, run.failure_reason) == ("failed", "b_failed")
    assert steps(run)["b"].attempts == 3  # max_attempts of the step's policy
    assert "ConnectionError" in steps(run)["b"].error
    assert recorded("exhausted") == ["a", "undo-a"]


def test_a_permanent_failure_is_not_retried(worker):
    run = finished(start("probe.flow", "fatal", b_fatal=True))

    assert (run.status, run.failure_reason) == ("failed", "b_refused")
    assert steps(run)["b"].attempts == 1
    assert recorded("fatal") == ["a", "undo-a"]


def test_a_step_over_its_time_limit_fails_and_its_writes_are_rolled_back(worker):
    run = finished(start("probe.flow", "slow", b_sleep=5))

    b = steps(run)["b"]
    assert run.status == "failed"
    assert "SoftTimeLimitExceeded" in b.error
    assert b.attempts == 1  # a time limit is not in b's retryable errors
    assert recorded("slow") == ["a", "undo-a"]


def test_compensation_runs_in_reverse_order_of_the_completed_steps(worker):
    run = finished(start("probe.flow", "reverse", e_fatal=True))

    assert (run.status, run.failure_reason) == ("failed", "e_refused")
    done = recorded("reverse")
    assert done[:4] == ["a", "b", "c", "d"] or done[:4] == ["a", "b", "d", "c"]
    assert done[4:] == ["undo-d", "undo-c", "undo-b", "undo-a"]
    assert {s.name: s.status for s in run.steps.all()} == {
        "a": "compensated",
        "b": "compensated",
        "c": "compensated",
        "d": "compensated",
        "e": "failed",
    }


def test_retry_from_the_failed_step_does_not_rerun_completed_steps(worker, staff_client):
    run = finished(start("probe.retryable", "retry", b_fatal=True))
    assert run.status == "failed"
    assert recorded("retry") == ["plain"]

    Switch.objects.create(name="b-healed", on=True)
    response = staff_client.post(f"/api/workflows/{run.pk}/retry/")
    assert response.status_code == 200, response.content
    run = finished(run)

    assert run.status == "succeeded"
    assert recorded("retry") == ["plain", "b", "e"]  # plain ran once, before the failure
    assert staff_client.post(f"/api/workflows/{run.pk}/retry/").status_code == 409


def test_a_signal_resumes_a_waiting_run(worker):
    run = start("probe.waiting", "signal")
    wait_until(
        lambda: StepRun.objects.filter(run=run, name="await_go", status="waiting").exists(),
        timeout=30,
        message="the run to wait for its signal",
    )
    assert workflow_signal(run=run, signal="probe.go", result={"go": "yes"})
    assert not workflow_signal(run=run, signal="probe.go")  # nobody waits any more

    run = finished(run)
    assert run.status == "succeeded"
    assert steps(run)["await_go"].result == {"go": "yes"}
    assert recorded("signal") == ["a", "await", "e"]


def test_a_waiting_run_cancelled_in_the_middle_compensates_and_stops(worker, staff_client):
    run = start("probe.waiting", "cancel")
    wait_until(
        lambda: StepRun.objects.filter(run=run, name="await_go", status="waiting").exists(),
        timeout=30,
        message="the run to wait for its signal",
    )
    response = staff_client.post(f"/api/workflows/{run.pk}/cancel/")
    assert response.status_code == 200, response.content
    # Claimed at once; the worker undoes the steps after the cancel's commit.
    assert response.json()["status"] == "compensating"
    run = finished(run)

    assert run.status == "cancelled"
    assert recorded("cancel") == ["a", "await", "undo-await", "undo-a"]
    assert steps(run)["e"].status == "skipped"
    assert not workflow_signal(run=run, signal="probe.go")
    assert staff_client.post(f"/api/workflows/{run.pk}/cancel/").status_code == 409


def test_a_timer_fails_a_step_that_waited_too_long(worker):
    from events.tasks import fire_workflow_timers

    run = start("probe.waiting", "timer", timeout=1)

    def timed_out() -> bool:
        fire_workflow_timers.delay()  # what beat does every few seconds
        run.refresh_from_db()
        return run.is_terminal

    wait_until(timed_out, timeout=60, message="the timer to fire")
    run = finished(run)
    assert (run.status, run.failure_reason) == ("failed", "no_go")
    assert recorded("timer") == ["a", "await", "undo-await", "undo-a"]
