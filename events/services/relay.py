"""Publishing the outbox: after commit (fast path), by the relay process, by the sweeper."""

import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ..conf import events_settings
from ..models import OutboxEvent
from .delivery import deliveries_create

logger = logging.getLogger(__name__)


def _publish(event_id: uuid.UUID, subscriber: str) -> None:
    from ..tasks import deliver

    # No retry loop here: a broker that is down must not hold the caller (often a web
    # request); the row stays pending and the relay or the sweeper tries again.
    deliver.apply_async(kwargs={"event_id": str(event_id), "subscriber": subscriber}, retry=False)


def outbox_publish(
    *,
    event_ids: Iterable[uuid.UUID] | None = None,
    min_age_seconds: float = 0.0,
    limit: int = 500,
) -> int:
    """Publish pending outbox rows (the given ones, or all old enough); return how many went out.

    Publishing an event dispatches it: one delivery row and one ``events.deliver`` message
    per subscriber. Rows are claimed with ``SELECT ... FOR UPDATE SKIP LOCKED`` where the
    database has it (SQLite runs one writer at a time), so publishers working side by side
    never take the same row. A row is marked published only once the broker accepted its
    messages (with publisher confirms on RabbitMQ).
    """
    rows = OutboxEvent.objects.pending()
    if event_ids is not None:
        rows = rows.filter(event_id__in=list(event_ids))
    if min_age_seconds:
        rows = rows.stale(older_than_seconds=min_age_seconds)
    if event_ids is None and not rows.exists():
        return 0  # a polling relay takes no write lock when there is nothing to do
    published = []
    with transaction.atomic():
        claimed = list(
            rows.select_related("event")
            .order_by("created_at")
            .select_for_update(skip_locked=True, of=("self",))[:limit]
        )
        now = timezone.now()
        pairs = deliveries_create([(row.event_id, row.event.type) for row in claimed])
        subscribers: dict[uuid.UUID, list[str]] = defaultdict(list)
        for event_id, name in pairs:
            subscribers[event_id].append(name)
        for row in claimed:
            try:
                for name in subscribers[row.event_id]:
                    _publish(row.event_id, name)
            except Exception as exc:  # the broker refused or is unreachable
                error = f"{type(exc).__name__}: {exc}"
                logger.warning("Outbox publish of %s failed: %s", row.event_id, error)
                OutboxEvent.objects.filter(pk=row.pk).update(
                    attempts=F("attempts") + 1, last_error=error
                )
                break  # the broker is down: the rest would fail the same way
            published.append(row.pk)
        OutboxEvent.objects.filter(pk__in=published).update(
            published_at=now, attempts=F("attempts") + 1, last_error=""
        )
    return len(published)


def outbox_lag_seconds() -> float:
    """Age of the oldest unpublished row: how far the relay is behind."""
    oldest = (
        OutboxEvent.objects.pending()
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return (timezone.now() - oldest).total_seconds() if oldest else 0.0


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
