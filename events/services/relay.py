"""Publishing the outbox: after commit (fast path), by the relay process, by the sweeper."""

import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from .. import dispatch, instruments
from ..conf import events_settings
from ..context import caused_by
from ..models import Event, OutboxEvent
from .delivery import deliveries_create

logger = logging.getLogger(__name__)


class PublishRound(NamedTuple):
    """What one call of :func:`outbox_publish_round` did."""

    published: int
    refused: bool  # the broker refused a message: that row and the rest went back to pending


def outbox_publish(
    *,
    event_ids: Iterable[uuid.UUID] | None = None,
    min_age_seconds: float = 0.0,
    limit: int = 500,
) -> int:
    """Publish pending outbox rows (the given ones, or all old enough); return how many went out."""
    return outbox_publish_round(
        event_ids=event_ids, min_age_seconds=min_age_seconds, limit=limit
    ).published


def outbox_publish_round(
    *,
    event_ids: Iterable[uuid.UUID] | None = None,
    min_age_seconds: float = 0.0,
    limit: int = 500,
) -> PublishRound:
    """Publish up to ``limit`` pending rows, oldest first, and say whether the broker refused.

    Publishing an event dispatches it: one delivery row and one ``events.deliver`` message
    per subscriber. One statement claims the rows and marks them published; the mark
    commits only once the broker accepted every message (with publisher confirms on
    RabbitMQ), and rows whose publish failed are handed back in the same transaction.
    The claim skips rows another publisher holds (``FOR UPDATE SKIP LOCKED``; SQLite runs
    one writer at a time), so publishers working side by side never take the same row.
    """
    if event_ids is None:
        rows = OutboxEvent.objects.pending()
        if min_age_seconds:
            rows = rows.stale(older_than_seconds=min_age_seconds)
        if not rows.exists():
            return PublishRound(0, refused=False)  # a polling relay takes no write lock here
    else:
        event_ids = list(event_ids)
        if not event_ids:
            return PublishRound(0, refused=False)
    refused = False
    with transaction.atomic():
        claimed = _claim(event_ids=event_ids, min_age_seconds=min_age_seconds, limit=limit)
        pairs = deliveries_create([(row.event_id, row.event_type) for row in claimed])
        subscribers: dict[uuid.UUID, list[str]] = defaultdict(list)
        for event_id, name in pairs:
            subscribers[event_id].append(name)
        for position, row in enumerate(claimed):
            try:
                _publish(row, subscribers[row.event_id])
            except Exception as exc:  # the broker refused or is unreachable
                # The broker is down: the rest would fail the same way. Hand them back.
                _unclaim(failed=row, rest=claimed[position + 1 :], exc=exc)
                claimed, refused = claimed[:position], True
                break
        if recovered := [row.event_id for row in claimed if row.last_error]:
            OutboxEvent.objects.filter(event_id__in=recovered).update(last_error="")
    instruments.events_published(
        [row.event_type for row in claimed], publisher=_publisher(event_ids, min_age_seconds)
    )
    return PublishRound(len(claimed), refused=refused)


def _publisher(event_ids: list[uuid.UUID] | None, min_age_seconds: float) -> str:
    """Who published, for the batch size metric: told by what the call asked for."""
    if event_ids is not None:
        return "after_commit"
    return "sweeper" if min_age_seconds else "relay"


class _Claimed(NamedTuple):
    event_id: uuid.UUID
    event_type: str
    last_error: str
    correlation_id: uuid.UUID


def _publish(row: _Claimed, subscribers: list[str]) -> None:
    """One message per subscriber, each carrying the event's flow (see ``dispatch``)."""
    with caused_by(
        correlation_id=row.correlation_id, causation_id=row.event_id, event_id=row.event_id
    ):
        for name in subscribers:
            # No retry loop: a broker that is down must not hold the caller (often a web
            # request); the row goes back to pending for the relay or the sweeper.
            dispatch.delivery(row.event_id, name, retry=False)
        logger.info("Published %s %s to %s", row.event_type, row.event_id, subscribers)


def _claim(
    *, event_ids: list[uuid.UUID] | None, min_age_seconds: float, limit: int
) -> list[_Claimed]:
    """Mark up to ``limit`` pending rows published, oldest first, and return them.

    One statement, not a select then an update: this runs after every commit that emitted
    an event, and the ORM's two round trips cost more than the publish itself.
    """
    table = OutboxEvent._meta.db_table
    events = Event._meta.db_table
    field = OutboxEvent._meta.get_field("created_at")
    conditions, params = ["published_at IS NULL"], []
    if event_ids is not None:
        conditions.append(f"event_id IN ({', '.join(['%s'] * len(event_ids))})")
        event_pk = Event._meta.pk
        params += [event_pk.get_db_prep_value(event_id, connection) for event_id in event_ids]
    if min_age_seconds:
        cutoff = timezone.now() - timedelta(seconds=min_age_seconds)
        conditions.append("created_at <= %s")
        params.append(field.get_db_prep_value(cutoff, connection))
    skip_locked = (
        " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    )
    now = field.get_db_prep_value(timezone.now(), connection)
    sql = f"""
        UPDATE {table} SET published_at = %s, attempts = attempts + 1
        WHERE id IN (
            SELECT id FROM {table} WHERE {" AND ".join(conditions)}
            ORDER BY created_at, id LIMIT %s{skip_locked}
        )
        RETURNING created_at, id, event_id, last_error,
            (SELECT type FROM {events} WHERE {events}.id = {table}.event_id),
            (SELECT correlation_id FROM {events} WHERE {events}.id = {table}.event_id)
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, *params, limit])
        rows = cursor.fetchall()
    rows.sort()  # RETURNING comes in no particular order
    return [
        _Claimed(_uuid(event_id), event_type, last_error, _uuid(correlation_id))
        for _, _, event_id, last_error, event_type, correlation_id in rows
    ]


def _uuid(value: object) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _unclaim(*, failed: _Claimed, rest: list[_Claimed], exc: Exception) -> None:
    """Put rows back to pending: the failed one with its error, the untried ones as they were."""
    error = f"{type(exc).__name__}: {exc}"
    logger.warning("Outbox publish of %s failed: %s", failed.event_id, error)
    OutboxEvent.objects.filter(event_id=failed.event_id).update(published_at=None, last_error=error)
    if rest:
        OutboxEvent.objects.filter(event_id__in=[row.event_id for row in rest]).update(
            published_at=None, attempts=F("attempts") - 1
        )


def outbox_sweep() -> int:
    """Republish what the fast path left behind (broker was down, process died)."""
    total = 0
    while count := outbox_publish(
        min_age_seconds=events_settings.SWEEP_AFTER_SECONDS, limit=events_settings.SWEEP_BATCH_SIZE
    ):
        total += count
        if count < events_settings.SWEEP_BATCH_SIZE:
            break
    return total
