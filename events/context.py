"""Which event is being handled, so events emitted meanwhile carry its ids."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Cause:
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None


_current: ContextVar[Cause | None] = ContextVar("events_cause", default=None)


def current_cause() -> Cause | None:
    return _current.get()


@contextmanager
def caused_by(*, correlation_id: uuid.UUID, causation_id: uuid.UUID | None) -> Iterator[None]:
    token = _current.set(Cause(correlation_id=correlation_id, causation_id=causation_id))
    try:
        yield
    finally:
        _current.reset(token)
