"""The watchdog sends again what a lost message left standing: an undo, a retry.

The rows are those a lost message leaves; the real workers are in tests/integration.
"""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from events import dispatch
from events.conf import events_settings
from events.models import StepRun, WorkflowRun
from events.workflows.engine import step_compensate, workflow_resume_stalled
from tests.helpers.engine import records, step
from tests.probe.models import Record
from tests.probe.workflows import c

pytestmark = pytest.mark.django_db

S = StepRun.Status


def test_an_undo_that_fails_is_sent_again_until_it_goes_through(
    make_run, monkeypatch, broker, django_capture_on_commit_callbacks
):
    run = make_run(S.COMPENSATED, S.SUCCEEDED, compensation_sent_at=timezone.now())
    WorkflowRun.objects.filter(pk=run.pk).update(status=WorkflowRun.Status.CANCELLED)
    outage = {"down": True}

    def undo_c(ctx):  # type: ignore[no-untyped-def]
        if outage["down"]:
            raise ConnectionError("the carrier is down")
        Record.objects.create(
            subscriber="undo-c", aggregate_id=ctx.subject_id, sequence=1, event_id=uuid.uuid4()
        )

    monkeypatch.setattr(c, "compensate", undo_c)

    assert step_compensate(run_id=run.pk, step_name=c.name) > 0  # a retry is due
    assert step(run, c.name).status == S.SUCCEEDED  # still in effect
    run.refresh_from_db()
    assert run.compensation_attempts == 1
    assert run.compensation_error == f"{c.name}: ConnectionError: the carrier is down"

    with django_capture_on_commit_callbacks(execute=True):
        assert workflow_resume_stalled() == 0  # not overdue yet
    StepRun.objects.filter(run=run, name=c.name).update(
        compensation_sent_at=timezone.now() - timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert workflow_resume_stalled() == 1
        assert workflow_resume_stalled() == 0  # sent once per stall period
    assert broker.of(dispatch.COMPENSATE_STEP) == [{"run_id": str(run.pk), "step": c.name}]

    outage["down"] = False
    assert step_compensate(run_id=run.pk, step_name=c.name) is None
    assert step(run, c.name).status == S.COMPENSATED
    assert records() == ["undo-c"]


def test_an_undo_that_keeps_failing_ends_its_run_compensation_failed_and_is_not_sent_again(
    make_run, monkeypatch, broker, settings, django_capture_on_commit_callbacks
):
    settings.EVENTS = {**settings.EVENTS, "COMPENSATION_MAX_ATTEMPTS": 2}
    run = make_run(S.COMPENSATED, S.SUCCEEDED, compensation_sent_at=timezone.now())
    WorkflowRun.objects.filter(pk=run.pk).update(status=WorkflowRun.Status.CANCELLED)

    def undo_c(ctx):  # type: ignore[no-untyped-def]
        raise ConnectionError("the carrier is down")

    monkeypatch.setattr(c, "compensate", undo_c)

    assert step_compensate(run_id=run.pk, step_name=c.name) is not None
    assert step_compensate(run_id=run.pk, step_name=c.name) is None  # tries spent

    run.refresh_from_db()
    assert (run.status, run.compensation_ends_as) == ("compensation_failed", "cancelled")
    assert run.compensation_attempts == 2
    StepRun.objects.filter(run=run, name=c.name).update(
        compensation_sent_at=timezone.now() - timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert workflow_resume_stalled() == 0  # nothing is resent forever
    assert broker.of(dispatch.COMPENSATE_STEP) == []


def test_a_retry_whose_message_was_lost_is_queued_again_once_it_is_long_overdue(
    make_run, broker, django_capture_on_commit_callbacks
):
    stall = timedelta(seconds=events_settings.WORKFLOW_STALL_SECONDS)
    lost = make_run(S.SUCCEEDED, S.RETRYING, retry_at=timezone.now() - stall - timedelta(1))
    on_time = make_run(S.SUCCEEDED, S.RETRYING, "p-2", retry_at=timezone.now() + timedelta(1))

    with django_capture_on_commit_callbacks(execute=True):
        assert workflow_resume_stalled() == 1

    assert broker.steps() == [c.name]
    assert step(lost, c.name).status == S.QUEUED
    assert step(on_time, c.name).status == S.RETRYING
    with django_capture_on_commit_callbacks(execute=True):
        assert workflow_resume_stalled() == 0  # queued just now: not stalled again yet
