"""Emitting an event: written with the change it describes, published after commit.

Emitting sits on every write path, so it costs as little as it can: on PostgreSQL one
statement allocates the sequence, stores the event and queues it in the outbox; on
SQLite the same three writes run as three plain statements.
"""

import uuid
from functools import cache, partial
from typing import Any

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field
from django.utils import timezone

from .. import context, instruments, types
from ..conf import events_settings
from ..models import AggregateStream, Command, Event, OutboxEvent
from .relay import outbox_publish

# The upsert takes the stream row's lock, so concurrent emitters of one aggregate queue up
# and get 1, 2, 3 ... with no gaps (a rolled-back transaction gives its number back).
_NEXT_SEQUENCE = f"""
INSERT INTO {AggregateStream._meta.db_table} (aggregate_type, aggregate_id, last_sequence)
VALUES (%s, %s, 1)
ON CONFLICT (aggregate_type, aggregate_id)
DO UPDATE SET last_sequence = {AggregateStream._meta.db_table}.last_sequence + 1
RETURNING last_sequence
"""

_EVENT_COLUMNS = (
    "id",
    "type",
    "version",
    "aggregate_type",
    "aggregate_id",
    "occurred_at",
    "correlation_id",
    "causation_id",
    "payload",
)
_INSERT_OUTBOX = f"""
INSERT INTO {OutboxEvent._meta.db_table} (event_id, created_at, attempts, last_error)
VALUES (%s, %s, 0, '')
"""
_EMIT_POSTGRES = f"""
WITH seq AS ({_NEXT_SEQUENCE}),
event AS (
    INSERT INTO {Event._meta.db_table} ({", ".join(_EVENT_COLUMNS)}, sequence)
    SELECT {", ".join(["%s"] * len(_EVENT_COLUMNS))}, seq.last_sequence FROM seq
    RETURNING id, sequence
),
outbox AS (
    INSERT INTO {OutboxEvent._meta.db_table} (event_id, created_at, attempts, last_error)
    SELECT id, %s, 0, '' FROM event
)
SELECT sequence FROM event
"""
_INSERT_EVENT = f"""
INSERT INTO {Event._meta.db_table} ({", ".join(_EVENT_COLUMNS)}, sequence)
VALUES ({", ".join(["%s"] * (len(_EVENT_COLUMNS) + 1))})
"""


@cache
def _event_fields() -> list[Field]:
    return [Event._meta.get_field(column) for column in _EVENT_COLUMNS]


class EmitOutsideTransaction(RuntimeError):
    """An event must commit with its change; outside a transaction it could not."""


def event_emit(
    *,
    type: str,
    aggregate_id: Any,
    payload: dict[str, Any],
    version: int | None = None,
    correlation_id: uuid.UUID | None = None,
    causation_id: uuid.UUID | None = None,
) -> Event:
    """Record ``type`` for an aggregate in the current transaction and queue it for publishing.

    Correlation and causation default to the current cause (``events.context``): the
    event being handled, the workflow run being moved, or the request. A request (or a
    task it sent) only proposes its correlation: an aggregate that already has events
    keeps its latest correlation, so a callback or a return stays in the story of the
    order. A request that emits is recorded as the ``Command`` behind its events.
    """
    conn = transaction.get_connection()  # once: every ``connection.x`` is a lookup
    if not conn.in_atomic_block:
        raise EmitOutsideTransaction(
            f"event_emit({type!r}) must run inside transaction.atomic() with its change."
        )
    event_type = types.get(type, version)
    types.validate(event_type, payload)
    cause = context.current_cause()
    if correlation_id is None:
        correlation_id = _correlation(cause, event_type.aggregate_type, str(aggregate_id))
    if causation_id is None and cause is not None:
        causation_id = cause.causation_id
    caused_by_request = cause is not None and cause.command and causation_id is not None
    if caused_by_request and causation_id == cause.causation_id:
        _record_command(cause, causation_id, correlation_id)
    event = Event(
        id=uuid.uuid4(),
        type=event_type.name,
        version=event_type.version,
        aggregate_type=event_type.aggregate_type,
        aggregate_id=str(aggregate_id),
        occurred_at=timezone.now(),
        correlation_id=correlation_id,
        causation_id=causation_id,
        payload=payload,
    )
    event.sequence = _store(event, conn)
    event._state.adding = False
    event._state.db = conn.alias
    instruments.event_emitted(event.type)
    # Fast path: publish as soon as the transaction commits. If that fails (broker down,
    # process killed), the row stays pending and the relay or the sweeper publishes it.
    if events_settings.PUBLISH_ON_COMMIT:
        transaction.on_commit(partial(outbox_publish, event_ids=[event.id]), robust=True)
    return event


def _correlation(cause: context.Cause | None, aggregate_type: str, aggregate_id: str) -> uuid.UUID:
    """The flow a new event belongs to: the fixed one, the aggregate's, or a new one.

    Only work without a fixed flow (a request, a periodic task) pays the lookup: events
    emitted while handling an event or moving a run do not.
    """
    if cause is not None and cause.fixed:
        return cause.correlation_id
    latest = (
        Event.objects.filter(aggregate_type=aggregate_type, aggregate_id=aggregate_id)
        .order_by("-sequence")
        .values_list("correlation_id", flat=True)
        .first()
    )
    if latest is None:
        return cause.correlation_id if cause is not None else uuid.uuid4()
    context.join(latest)
    return latest


def _record_command(cause: context.Cause, command_id: uuid.UUID, correlation_id: uuid.UUID) -> None:
    """Keep the request behind the event, once (a second event of it finds the row)."""
    Command.objects.bulk_create(
        [
            Command(
                id=command_id,
                name=cause.command[: Command._meta.get_field("name").max_length],
                correlation_id=correlation_id,
                received_at=cause.received_at or timezone.now(),
            )
        ],
        ignore_conflicts=True,
    )


def _store(event: Event, conn: BaseDatabaseWrapper) -> int:
    """Write the event and its outbox row; return the event's sequence."""
    stream = [event.aggregate_type, event.aggregate_id]
    values = [
        field.get_db_prep_save(getattr(event, field.attname), conn) for field in _event_fields()
    ]
    event_id, created_at = values[0], values[5]
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            cursor.execute(_EMIT_POSTGRES, [*stream, *values, created_at])
            return cursor.fetchone()[0]
        cursor.execute(_NEXT_SEQUENCE, stream)
        sequence = cursor.fetchone()[0]
        cursor.execute(_INSERT_EVENT, [*values, sequence])
        cursor.execute(_INSERT_OUTBOX, [event_id, created_at])
    return sequence
