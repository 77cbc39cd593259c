"""Celery tasks of the engine: thin adapters around the services.

Services send these by name through ``events.dispatch``; this module is the only one
that turns the names into tasks.
"""

from celery import shared_task

from . import dispatch
from .conf import events_settings
from .retry import countdown
from .services import delivery_resume_stalled, delivery_run, outbox_sweep
from .workflows.engine import (
    step_compensate,
    workflow_compensate,
    workflow_fire_timers,
    workflow_resume_stalled,
)


# Deliveries and their attempts are the record: no result rows are written.
@shared_task(name=dispatch.DELIVER, bind=True, acks_late=True, max_retries=None, ignore_result=True)
def deliver(self, event_id: str, subscriber: str, **trace: str) -> str:  # type: ignore[no-untyped-def]
    """Run one subscriber on one event; retries follow the subscriber's policy.

    ``trace`` is the cause the message carries, made current by ``events.tracing``.
    """
    outcome = delivery_run(event_id=event_id, subscriber=subscriber, task_id=self.request.id or "")
    if outcome.retry_in is not None:
        raise self.retry(countdown=countdown(outcome.retry_in))
    return outcome.status


@shared_task(name=dispatch.SWEEP_OUTBOX)
def sweep_outbox() -> int:
    """Publish outbox rows the fast path left behind."""
    return outbox_sweep()


# A compensation counts its own failed tries (events.conf COMPENSATION_*) and ends its run
# compensation_failed once they are spent; the task only carries the delays between them.
@shared_task(name=dispatch.COMPENSATE_WORKFLOW, bind=True, acks_late=True, max_retries=None)
def compensate_workflow(self, run_id: str, **trace: str) -> str:  # type: ignore[no-untyped-def]
    """Undo a failed or cancelled run's completed steps in reverse order, then end it."""
    outcome = workflow_compensate(run_id=run_id)
    if outcome.retry_in is not None:
        raise self.retry(countdown=countdown(outcome.retry_in))
    return outcome.status


@shared_task(name=dispatch.COMPENSATE_STEP, bind=True, acks_late=True, max_retries=None)
def compensate_step(self, run_id: str, step: str, **trace: str) -> None:  # type: ignore[no-untyped-def]
    """Undo a step that completed after its run stopped."""
    retry_in = step_compensate(run_id=run_id, step_name=step)
    if retry_in is not None:
        raise self.retry(countdown=countdown(retry_in))


@shared_task(name=dispatch.RESUME_STALLED)
def resume_stalled() -> int:
    """Send again deliveries, workflow steps and compensations whose message was lost."""
    if not events_settings.WATCHDOG_ENABLED:
        return 0
    return delivery_resume_stalled() + workflow_resume_stalled()


@shared_task(name=dispatch.FIRE_WORKFLOW_TIMERS)
def fire_workflow_timers() -> int:
    """Time out workflow steps that waited past their deadline for a signal."""
    return workflow_fire_timers()
