"""What caused the work in hand, so events emitted, tasks sent and lines logged carry it.

One context variable holds a :class:`Cause`. It is set by whatever starts a piece of work:

- a web request (``events.middleware``): its request id is the causation (a command)
  and the correlation it proposes to a new flow;
- a task message (``events.tracing`` restores the ids that ``events.dispatch`` added to
  its kwargs when it was sent);
- the handling of an event (``events.services.delivery``) or a workflow run's step
  (``events.workflows.engine.progress.in_flow``): there the correlation is *fixed*.

A correlation that is not fixed is a proposal: an event emitted for an aggregate that
already has events continues that aggregate's latest correlation instead (see
``events.services.emission``), and the context then joins it. That is how a payment
callback or a return, each a request of its own, stays in the story of its order.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, replace
from datetime import datetime


@dataclass(frozen=True)
class Cause:
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None
    # Handling an event or running a workflow: its correlation wins over the aggregate's.
    fixed: bool = True
    # What to record as the command behind ``causation_id`` (e.g. "POST /api/orders/"),
    # when the cause is a request rather than an event.
    command: str = ""
    received_at: datetime | None = None  # when that request came in
    event_id: uuid.UUID | None = None  # the event being handled
    run_id: uuid.UUID | None = None  # the workflow run being moved


_current: ContextVar[Cause | None] = ContextVar("events_cause", default=None)


def current_cause() -> Cause | None:
    return _current.get()


@contextmanager
def caused_by(
    *,
    correlation_id: uuid.UUID,
    causation_id: uuid.UUID | None,
    event_id: uuid.UUID | None = None,
    run_id: uuid.UUID | None = None,
) -> Iterator[None]:
    """Inside the block the correlation is fixed: handling an event, moving a run."""
    with bound(
        Cause(
            correlation_id=correlation_id,
            causation_id=causation_id,
            event_id=event_id,
            run_id=run_id,
        )
    ):
        yield


@contextmanager
def bound(cause: Cause | None) -> Iterator[None]:
    """Make ``cause`` the current one inside the block (None: no cause)."""
    token = _current.set(cause)
    try:
        yield
    finally:
        _current.reset(token)


def enter(cause: Cause | None) -> Token[Cause | None]:
    """Make ``cause`` current until :func:`leave` (for signal pairs, where no block fits)."""
    return _current.set(cause)


def leave(token: Token[Cause | None]) -> None:
    _current.reset(token)


def join(correlation_id: uuid.UUID) -> None:
    """The work in hand turned out to continue an existing flow: carry its correlation on.

    Called by emission when a request (or a task sent by one) emits for an aggregate
    with a history; what the same work sends or logs afterwards carries that flow's id.
    """
    cause = _current.get()
    if cause is not None and cause.correlation_id != correlation_id:
        _current.set(replace(cause, correlation_id=correlation_id))


def parse_id(value: object) -> uuid.UUID | None:
    """A UUID from a string (hyphenated or 32 hex digits), or None for anything else."""
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str) or len(value) not in (32, 36):
        return None
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return None
    return parsed if value.lower() in (str(parsed), parsed.hex) else None


# Keyword arguments that carry the cause in a task message (visible in Flower).
CORRELATION_KWARG = "correlation_id"
CAUSATION_KWARG = "causation_id"


def task_kwargs() -> dict[str, str]:
    """The current cause as task kwargs; empty when there is none."""
    cause = _current.get()
    if cause is None:
        return {}
    found = {CORRELATION_KWARG: str(cause.correlation_id)}
    if cause.causation_id is not None:
        found[CAUSATION_KWARG] = str(cause.causation_id)
    return found


def from_task_kwargs(kwargs: dict[str, object] | None) -> Cause | None:
    """The cause a task message carries, as a proposal (not fixed), or None."""
    kwargs = kwargs or {}
    correlation_id = parse_id(kwargs.get(CORRELATION_KWARG))
    if correlation_id is None:
        return None
    return Cause(
        correlation_id=correlation_id,
        causation_id=parse_id(kwargs.get(CAUSATION_KWARG)),
        fixed=False,
    )
