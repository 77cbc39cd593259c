"""Every message the engine sends leaves through here, addressed by task name.

The tasks import the services; the services never import the tasks. When a service has
work for a worker (a delivery, a workflow step, a compensation) it asks this module to
send the task of that name. The message goes through one publisher: Celery's, unless
another is set (the test suite records messages instead; a project could route them).

Celery's publisher adds the current cause (``events.context``) to the message's kwargs:
``correlation_id`` and ``causation_id``, which Flower shows with the task and the worker
restores before the task runs (``events.apps``).
"""

import uuid
from functools import partial
from typing import Protocol

from celery import current_app
from django.db import transaction

from . import context

# Names of the engine's own tasks (events/tasks.py declares them under these names).
DELIVER = "events.deliver"
SWEEP_OUTBOX = "events.sweep_outbox"
COMPENSATE_WORKFLOW = "events.compensate_workflow"
COMPENSATE_STEP = "events.compensate_step"
RESUME_STALLED = "events.resume_stalled"
FIRE_WORKFLOW_TIMERS = "events.fire_workflow_timers"


class Publisher(Protocol):
    """Sends one task message. ``retry`` None follows Celery's publish retry setting."""

    def __call__(self, task_name: str, kwargs: dict[str, str], *, retry: bool | None) -> None: ...


def celery_publisher(task_name: str, kwargs: dict[str, str], *, retry: bool | None) -> None:
    """Send through the registered task, so its own options (queue, routing) apply."""
    current_app.tasks[task_name].apply_async(
        kwargs={**kwargs, **context.task_kwargs()}, retry=retry
    )


_publisher: Publisher = celery_publisher


def set_publisher(publisher: Publisher | None) -> Publisher:
    """Route every message through ``publisher`` (None: Celery's); return the one it replaces."""
    global _publisher
    previous, _publisher = _publisher, publisher or celery_publisher
    return previous


def send(task_name: str, *, retry: bool | None = None, **kwargs: str) -> None:
    """Send the task now. Raises if the broker refuses (with ``retry=False``, at once)."""
    _publisher(task_name, kwargs, retry=retry)


def send_on_commit(task_name: str, **kwargs: str) -> None:
    """Send the task once the current transaction commits.

    A send that fails then is logged and dropped: the row that asked for it stays as it
    was (pending, queued, compensating), and the watchdog or the sweeper sends it again.
    """
    transaction.on_commit(partial(send, task_name, **kwargs), robust=True)


def delivery(event_id: uuid.UUID | str, subscriber: str, *, retry: bool | None = None) -> None:
    send(DELIVER, retry=retry, event_id=str(event_id), subscriber=subscriber)


def delivery_on_commit(event_id: uuid.UUID | str, subscriber: str) -> None:
    send_on_commit(DELIVER, event_id=str(event_id), subscriber=subscriber)


def step_on_commit(task_name: str, run_id: uuid.UUID | str, step: str) -> None:
    send_on_commit(task_name, run_id=str(run_id), step=step)


def workflow_compensation(run_id: uuid.UUID | str) -> None:
    send(COMPENSATE_WORKFLOW, run_id=str(run_id))


def workflow_compensation_on_commit(run_id: uuid.UUID | str) -> None:
    send_on_commit(COMPENSATE_WORKFLOW, run_id=str(run_id))


def step_compensation_on_commit(run_id: uuid.UUID | str, step: str) -> None:
    send_on_commit(COMPENSATE_STEP, run_id=str(run_id), step=step)
