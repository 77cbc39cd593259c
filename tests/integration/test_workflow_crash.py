"""A worker killed in the middle of a step; a bad definition stopping start-up.

How the killed step comes back depends on the broker, and each way is tested where it is
the mechanism: RabbitMQ and Redis redeliver it (late acks), the filesystem broker cannot,
and there the watchdog resends it.
"""

import subprocess

import pytest
from django.test import override_settings

from events.models import StepRun, WorkflowRun
from events.workflows.definition import STEP_LISTED_TWICE
from events.workflows.engine import workflow_resume_stalled
from tests.integration.helpers import (
    filesystem_broker,
    finished,
    recorded,
    redelivering_broker,
    start,
)
from tests.processes import BIN, LATE_ACK_ONLY, ROOT, Worker, process_env, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def kill_mid_step(victim: Worker) -> tuple[WorkflowRun, StepRun]:
    """Start a run and SIGKILL ``victim`` while it runs the slow step; the killed try."""
    run = start("probe.crashy", "crash", sleep=3)
    killed = wait_until(
        lambda: StepRun.objects.filter(run=run, name="slow", status="running").first(),
        timeout=30,
        message="the slow step to start",
    )
    victim.kill()
    return run, killed  # type: ignore[return-value]


def assert_completed_once(run: WorkflowRun) -> StepRun:
    assert run.status == "succeeded"
    assert recorded("crash") == ["plain", "slow", "e"]  # the killed try left no trace
    slow = run.steps.get(name="slow")
    assert slow.attempts == 2
    return slow


@redelivering_broker
def test_a_step_whose_worker_is_killed_is_redelivered_by_late_ack_with_the_watchdog_off(
    start_worker,
):
    """RabbitMQ and Redis hand the unacknowledged step back to the next worker.

    The watchdog is off in every process (nothing here calls it either): the step comes
    back only because its message was acknowledged late. Acknowledged early, the message
    would die with the worker and the run would never finish.
    """
    (victim,) = start_worker(env=LATE_ACK_ONLY)
    run, killed = kill_mid_step(victim)

    start_worker(env=LATE_ACK_ONLY)

    slow = assert_completed_once(finished(run, timeout=90))
    assert slow.task_id == killed.task_id  # the same message, redelivered


@filesystem_broker
def test_on_the_filesystem_broker_the_watchdog_resends_a_step_whose_worker_was_killed(
    start_worker,
):
    """The filesystem transport lost the step's message with its worker: the watchdog,
    the mechanism on this broker alone, sends the stalled step again."""
    from django.conf import settings

    (victim,) = start_worker()
    run, killed = kill_mid_step(victim)

    start_worker()
    with override_settings(EVENTS={**settings.EVENTS, "WORKFLOW_STALL_SECONDS": 1}):

        def done() -> WorkflowRun | None:
            workflow_resume_stalled()
            run.refresh_from_db()
            return run if run.is_terminal else None

        wait_until(done, timeout=90, message="the run to complete after the kill")
    slow = assert_completed_once(finished(run))
    assert slow.task_id != killed.task_id  # a new message, sent by the watchdog


def test_a_bad_workflow_definition_stops_start_up_with_a_clear_message():
    result = subprocess.run(
        [str(BIN / "python"), "manage.py", "check"],
        cwd=ROOT,
        env=process_env(DJANGO_EXTRA_APPS="tests.probe,tests.badflow"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert STEP_LISTED_TWICE.format(workflow="badflow.twice", step="only") in result.stderr
