"""Stand-ins that the unit tests plug into the engine's public seams: the broker, handlers."""

import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from events import dispatch


class BrokerDown(Exception):
    pass


class RecordingBroker:
    """Takes the place of the broker through ``events.dispatch.set_publisher``.

    Every message is recorded: ``of(task_name)`` lists the kwargs sent to that task (a
    live list), and ``sent`` holds each delivery as (event id, subscriber). A message is
    refused when ``refuse`` holds ``"all"``, its task name, its event id or its (event
    id, subscriber): it raises ``error`` then. ``after_send``, when set, runs each message
    as a worker would.
    """

    def __init__(self) -> None:
        self.sent: list[tuple[uuid.UUID | None, str]] = []
        self.refuse: set[Any] = set()
        self.error: Exception = BrokerDown("connection refused")
        self.after_send: Callable[[str, dict[str, str]], None] | None = None
        self._by_task: defaultdict[str, list[dict[str, str]]] = defaultdict(list)
        self._order: list[tuple[str, dict[str, str]]] = []

    def __call__(self, task_name: str, kwargs: dict[str, str], *, retry: bool | None) -> None:
        event_id = uuid.UUID(kwargs["event_id"]) if "event_id" in kwargs else None
        keys = {"all", task_name, event_id, (event_id, kwargs.get("subscriber"))}
        if keys & self.refuse:
            raise self.error
        self._by_task[task_name].append(dict(kwargs))
        self._order.append((task_name, dict(kwargs)))
        if task_name == dispatch.DELIVER:
            self.sent.append((event_id, kwargs["subscriber"]))
        if self.after_send is not None:
            self.after_send(task_name, kwargs)

    def of(self, task_name: str) -> list[dict[str, str]]:
        """The kwargs of each message sent to ``task_name``, in order."""
        return self._by_task[task_name]

    def steps(self) -> list[str]:
        """The workflow steps sent, in order (compensations left out)."""
        return [
            kwargs["step"]
            for name, kwargs in self._order
            if name != dispatch.COMPENSATE_STEP and "step" in kwargs
        ]

    def clear(self) -> None:
        self.sent.clear()
        self._order.clear()
        for messages in self._by_task.values():
            messages.clear()


class HandlerBroke(Exception):
    pass


def always_fails(event) -> None:  # type: ignore[no-untyped-def]
    """A subscriber's handler that never works."""
    raise HandlerBroke(f"cannot handle {event.type}")


class FailsUntilFixed:
    """A handler with a bug that an operator fixes; it records its effect once it works."""

    def __init__(self) -> None:
        self.fixed = False
        self.effects: list = []

    def __call__(self, event) -> None:  # type: ignore[no-untyped-def]
        if not self.fixed:
            raise HandlerBroke("not fixed yet")
        self.effects.append(event.id)
