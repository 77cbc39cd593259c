"""Rows of the probe app in the states an operator acts on: a dead letter, a finished run."""

from django.db import transaction

from events import subscriptions
from events.models import DeadLetter, WorkflowRun
from events.services import delivery_run, event_emit
from events.workflows import workflow_start
from events.workflows.engine import workflow_compensate

from .fulfillment import run_steps


def dead_letter(aggregate_id: str = "admin") -> DeadLetter:
    """A ``probe.poison`` event whose subscriber failed all its attempts.

    One per aggregate: a later event of the same aggregate would wait behind a dead one.
    """
    with transaction.atomic():
        event = event_emit(type="probe.poison", aggregate_id=aggregate_id, payload={"n": 1})
    for _ in range(subscriptions.get("probe.poisoned").max_attempts):
        delivery_run(event_id=event.id, subscriber="probe.poisoned")
    return DeadLetter.objects.get(delivery__event=event)


def probe_run(subject_id: str, *, fail: bool) -> WorkflowRun:
    """A ``probe.retryable`` run (plain, b, e), failed at b or succeeded."""
    run = workflow_start(workflow="probe.retryable", subject_id=subject_id, input={"b_fatal": fail})
    run_steps(run, "plain", "b")
    if fail:
        workflow_compensate(run_id=run.id)
    else:
        run_steps(run, "e")
    run.refresh_from_db()
    assert run.status == (WorkflowRun.Status.FAILED if fail else WorkflowRun.Status.SUCCEEDED)
    return run
