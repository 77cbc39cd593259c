"""Runs are counted for Prometheus as they start and end, and when they are undone."""

import uuid

import pytest
from prometheus_client import REGISTRY

from events.models import WorkflowRun
from events.workflows.engine.compensation import workflow_compensate
from tests.metrics import sample

pytestmark = pytest.mark.django_db

WORKFLOW = "tests.two_steps"


def finished(status: str) -> float:
    return sample("events_workflows_finished_total", workflow=WORKFLOW, status=status)


def test_a_started_run_is_counted_and_its_outcomes_appear_at_zero(
    django_capture_on_commit_callbacks,
):
    workflow = f"tests.fresh-{uuid.uuid4().hex[:8]}"  # no series of it yet in this process

    with django_capture_on_commit_callbacks(execute=True):
        WorkflowRun.objects.create(workflow=workflow, subject_type="thing", subject_id="t-1")

    assert sample("events_workflows_started_total", workflow=workflow) == 1
    for status in ("succeeded", "failed", "cancelled", "compensation_failed"):
        labels = {"workflow": workflow, "status": status}
        assert REGISTRY.get_sample_value("events_workflows_finished_total", labels) == 0, status
    assert sample("events_workflows_compensated_total", workflow=workflow) == 0


@pytest.mark.parametrize("status", ["succeeded", "failed", "cancelled", "compensation_failed"])
def test_a_run_saved_with_an_end_status_is_counted_once_under_it(
    make_run, django_capture_on_commit_callbacks, status
):
    run = make_run("succeeded", "succeeded")
    before = finished(status)

    with django_capture_on_commit_callbacks(execute=True):
        run.status = status
        run.save(update_fields=["status", "finished_at"])
        run.save(update_fields=["error"])  # a later change of something else: not an end

    assert finished(status) == before + 1


def test_a_run_still_underway_is_not_counted_as_finished(
    make_run, django_capture_on_commit_callbacks
):
    run = make_run("succeeded", "failed")
    before = {status: finished(status) for status in ("succeeded", "failed")}

    with django_capture_on_commit_callbacks(execute=True):
        run.status = WorkflowRun.Status.COMPENSATING
        run.save(update_fields=["status"])

    assert {status: finished(status) for status in before} == before


def test_an_undone_run_is_counted_as_compensated_once_that_commits(
    make_run, django_capture_on_commit_callbacks
):
    run = make_run("succeeded", "failed")
    WorkflowRun.objects.filter(pk=run.pk).update(status=WorkflowRun.Status.COMPENSATING)
    before = sample("events_workflows_compensated_total", workflow=WORKFLOW)

    with django_capture_on_commit_callbacks() as callbacks:
        workflow_compensate(run_id=run.pk)
    assert sample("events_workflows_compensated_total", workflow=WORKFLOW) == before

    for callback in callbacks:
        callback()
    assert sample("events_workflows_compensated_total", workflow=WORKFLOW) == before + 1
