"""Stored events read for a bridge: the columns as the driver returns them, made text once.

A bridge reads thousands of rows a second and only writes them out again as text. Django's
converters would turn each id into a ``UUID``, each time into a ``datetime`` and each
payload through ``json`` only for the CloudEvent to turn them back; here the columns skip
them (an ``ExpressionWrapper`` typed as text has no converter) and become the CloudEvent's
strings directly: a UUID column is 32 hex digits on SQLite and a ``UUID`` on PostgreSQL,
a time column an ISO text in UTC on SQLite and an aware ``datetime`` on PostgreSQL, a JSON
column its text on both.
"""

import json
import uuid
from datetime import UTC, datetime

from django.db.models import ExpressionWrapper, F, QuerySet, TextField

from ..models import Event, OutboxEvent
from .cloudevents import StoredEvent


def _as_text(name: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(name), output_field=TextField())


# pk of the outbox row, then the event's columns in StoredEvent's order.
COLUMNS = (
    "pk",
    _as_text("event__id"),
    "event__type",
    "event__version",
    "event__aggregate_type",
    "event__aggregate_id",
    "event__sequence",
    _as_text("event__occurred_at"),
    _as_text("event__correlation_id"),
    _as_text("event__causation_id"),
    _as_text("event__payload"),
)


def uuid_text(value: str | uuid.UUID) -> str:
    """A UUID column's value in the canonical 8-4-4-4-12 form."""
    if isinstance(value, str) and len(value) == 32:
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return str(value)


def time_text(value: str | datetime) -> str:
    """A time column's value as ISO 8601 with its offset, as ``datetime.isoformat`` says it."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:  # SQLite keeps UTC without an offset
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def rows(outbox: QuerySet[OutboxEvent]) -> list[tuple[int, StoredEvent]]:
    """(outbox id, event) of each row, in the queryset's order."""
    return [
        (
            pk,
            StoredEvent(
                uuid_text(event_id),
                event_type,
                version,
                aggregate_type,
                aggregate_id,
                sequence,
                time_text(occurred_at),
                uuid_text(correlation_id),
                uuid_text(causation_id) if causation_id else None,
                json.loads(payload),  # not orjson: it reads integers past 64 bits as floats
            ),
        )
        for (
            pk,
            event_id,
            event_type,
            version,
            aggregate_type,
            aggregate_id,
            sequence,
            occurred_at,
            correlation_id,
            causation_id,
            payload,
        ) in outbox.values_list(*COLUMNS)
    ]


def stored_event(event: Event) -> StoredEvent:
    """The same values from a model instance (for callers that already hold one)."""
    return StoredEvent(
        str(event.id),
        event.type,
        event.version,
        event.aggregate_type,
        event.aggregate_id,
        event.sequence,
        event.occurred_at.isoformat(),
        str(event.correlation_id),
        str(event.causation_id) if event.causation_id else None,
        event.payload,
    )
