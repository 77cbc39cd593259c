"""A worker killed in the middle of a step; a bad definition stopping start-up."""

import subprocess

import pytest
from django.test import override_settings

from events.models import StepRun, WorkflowRun
from events.workflows.definition import STEP_LISTED_TWICE
from events.workflows.engine import workflow_resume_stalled
from tests.integration.helpers import finished, recorded, start
from tests.processes import BIN, ROOT, process_env, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_worker_killed_mid_step_leaves_the_run_to_complete_with_each_effect_once(start_worker):
    from django.conf import settings

    (victim,) = start_worker()
    run = start("probe.crashy", "crash", sleep=3)
    wait_until(
        lambda: StepRun.objects.filter(run=run, name="slow", status="running").exists(),
        timeout=30,
        message="the slow step to start",
    )
    victim.kill()

    start_worker()
    # RabbitMQ redelivers the unacknowledged step to the new worker; the filesystem broker
    # lost it with the worker, and the watchdog sends the step again.
    with override_settings(EVENTS={**settings.EVENTS, "WORKFLOW_STALL_SECONDS": 1}):

        def done() -> WorkflowRun | None:
            workflow_resume_stalled()
            run.refresh_from_db()
            return run if run.is_terminal else None

        wait_until(done, timeout=90, message="the run to complete after the kill")
    run = finished(run)
    assert run.status == "succeeded"
    assert recorded("crash") == ["plain", "slow", "e"]  # the killed try left no trace
    assert run.steps.get(name="slow").attempts == 2


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
