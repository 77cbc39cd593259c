"""A bridge's place in the event store: what to publish next, and moving on after the ack.

Outbox ids are handed out in the order events are stored, but on PostgreSQL two
transactions may commit out of that order: an id can be missing for a moment and appear
later. The bridge stops at such a gap until it is ``BRIDGE_GAP_WAIT_SECONDS`` old (a
rolled-back transaction never fills it), then passes over it and remembers it, and
publishes its event if it ever commits. The events of one aggregate are never out of
order: their emitters take turns on the aggregate's stream lock.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import F
from django.utils import timezone

from ..conf import events_settings
from ..models import BridgeCheckpoint, OutboxEvent
from . import stored
from .cloudevents import StoredEvent
from .config import BridgeConfig

# Gaps remembered at most: older ones are forgotten (their transactions rolled back).
MAX_GAPS = 1000


@dataclass(frozen=True)
class Batch:
    """Events to publish, and where the checkpoint goes once the broker acknowledged them."""

    events: list[StoredEvent]
    position: int
    gaps: list[int]
    start: int  # the position this batch was read from

    @property
    def moves(self) -> bool:
        return self.position != self.start or bool(self.events)


def checkpoint_get(*, bridge: BridgeConfig) -> BridgeCheckpoint:
    checkpoint, _ = BridgeCheckpoint.objects.get_or_create(name=bridge.name)
    return checkpoint


def batch_read(*, bridge: BridgeConfig, checkpoint: BridgeCheckpoint) -> Batch:
    """The next events the bridge carries after its checkpoint, oldest first."""
    rows = stored.rows(
        OutboxEvent.objects.filter(pk__gt=checkpoint.position).order_by("pk")[
            : events_settings.BRIDGE_BATCH_SIZE
        ]
    )
    late = (
        stored.rows(OutboxEvent.objects.filter(pk__in=checkpoint.gaps)) if checkpoint.gaps else []
    )
    found_late = {pk for pk, _ in late}
    gaps = [pk for pk in checkpoint.gaps if pk not in found_late]
    position = checkpoint.position
    taken: list[tuple[int, StoredEvent]] = []
    settled_before = timezone.now() - timedelta(seconds=events_settings.BRIDGE_GAP_WAIT_SECONDS)
    for row in rows:
        pk = row[0]
        if pk != position + 1:
            if _stored_at(pk) > settled_before:
                break  # the missing ids may still commit: wait for them
            gaps.extend(range(position + 1, pk))
        taken.append(row)
        position = pk
    events = [event for _, event in (*late, *taken) if bridge.carries(event.type)]
    return Batch(
        events=events,
        position=position,
        gaps=gaps[-MAX_GAPS:],
        start=checkpoint.position,
    )


def _stored_at(pk: int) -> datetime:
    """When an outbox row was written: read only for the row after a gap, which is rare."""
    return OutboxEvent.objects.values_list("created_at", flat=True).get(pk=pk)


def checkpoint_advance(*, checkpoint: BridgeCheckpoint, batch: Batch) -> bool:
    """Move the checkpoint past an acknowledged batch; False if another process moved it."""
    moved = BridgeCheckpoint.objects.filter(pk=checkpoint.pk, position=batch.start).update(
        position=batch.position,
        gaps=batch.gaps,
        published=F("published") + len(batch.events),
        last_published_at=timezone.now() if batch.events else F("last_published_at"),
        last_error="",
        updated_at=timezone.now(),
    )
    return bool(moved)


def checkpoint_record_error(*, checkpoint: BridgeCheckpoint, error: str) -> None:
    BridgeCheckpoint.objects.filter(pk=checkpoint.pk).update(
        last_error=error[:2000], updated_at=timezone.now()
    )


def bridge_pause(*, name: str) -> BridgeCheckpoint:
    """Stop a bridge publishing (its process stays up and resumes where it stopped)."""
    checkpoint, _ = BridgeCheckpoint.objects.update_or_create(name=name, defaults={"paused": True})
    return checkpoint


def bridge_resume(*, name: str) -> BridgeCheckpoint:
    checkpoint, _ = BridgeCheckpoint.objects.update_or_create(name=name, defaults={"paused": False})
    return checkpoint
