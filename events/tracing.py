"""The current cause in task messages and log lines.

``events.dispatch`` adds the cause to each message's kwargs; the receivers here make it
current while the worker runs the task, so what the task emits, sends and logs carries
the same correlation. ``add_trace_fields`` is a structlog processor (a plain function,
so this app needs no structlog): it puts the cause and the Celery task on a log line.
"""

from typing import Any

from celery import current_task

from . import context

_tokens: dict[str, Any] = {}


def restore_task_cause(task_id: str | None = None, kwargs: dict | None = None, **_: Any) -> None:
    """``task_prerun``: the cause the message carries is current while the task runs."""
    _tokens[task_id or ""] = context.enter(context.from_task_kwargs(kwargs))


def release_task_cause(task_id: str | None = None, **_: Any) -> None:
    """``task_postrun``: back to no cause (or the caller's, for a task run eagerly)."""
    token = _tokens.pop(task_id or "", None)
    if token is not None:
        context.leave(token)


def add_trace_fields(logger: object, method_name: str, event_dict: dict) -> dict:
    """Correlation, causation, request, event, run and task of the line, where known."""
    cause = context.current_cause()
    if cause is not None:
        event_dict.setdefault("correlation_id", str(cause.correlation_id))
        if cause.causation_id is not None:
            event_dict.setdefault("causation_id", str(cause.causation_id))
            if cause.command:
                event_dict.setdefault("request_id", str(cause.causation_id))
        if cause.event_id is not None:
            event_dict.setdefault("event_id", str(cause.event_id))
        if cause.run_id is not None:
            event_dict.setdefault("run_id", str(cause.run_id))
    task = current_task
    if task and task.request.id:
        event_dict.setdefault("task_id", task.request.id)
        event_dict.setdefault("task", task.name)
    return event_dict
