"""The event store (append-only), the per-aggregate sequence and the outbox."""

import uuid
from datetime import timedelta

from django.db import models
from django.utils import timezone


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete a stored event."""


class EventQuerySet(models.QuerySet):
    def for_aggregate(self, aggregate_type: str, aggregate_id: str) -> "EventQuerySet":
        return self.filter(aggregate_type=aggregate_type, aggregate_id=str(aggregate_id)).order_by(
            "sequence"
        )

    def update(self, **kwargs):  # type: ignore[no-untyped-def]
        raise AppendOnlyError("Stored events are append-only: they cannot be updated.")

    def delete(self):  # type: ignore[no-untyped-def]
        raise AppendOnlyError("Stored events are append-only: they cannot be deleted.")


class Event(models.Model):
    """One domain event, as emitted. Never changed after it is written."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=100, help_text="Event type, e.g. order.paid.")
    version = models.PositiveIntegerField(help_text="Schema version the payload was written in.")
    aggregate_type = models.CharField(max_length=100, help_text="Kind of aggregate, e.g. order.")
    aggregate_id = models.CharField(max_length=64, help_text="Id of the aggregate instance.")
    sequence = models.PositiveBigIntegerField(
        help_text="Position in the aggregate's stream: 1, 2, 3 ... with no gaps."
    )
    occurred_at = models.DateTimeField(default=timezone.now, help_text="When the change happened.")
    correlation_id = models.UUIDField(help_text="Shared by every event of one business flow.")
    causation_id = models.UUIDField(
        null=True, blank=True, help_text="The event whose handling emitted this one."
    )
    payload = models.JSONField(help_text="Event data, valid against the type's schema.")

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["occurred_at", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["aggregate_type", "aggregate_id", "sequence"],
                name="events_event_unique_sequence",
            )
        ]
        indexes = [
            models.Index(fields=["type", "occurred_at"], name="events_event_type_idx"),
            models.Index(fields=["correlation_id"], name="events_event_correlation_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.aggregate_type}:{self.aggregate_id}#{self.sequence}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not self._state.adding:
            raise AppendOnlyError("Stored events are append-only: they cannot be updated.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise AppendOnlyError("Stored events are append-only: they cannot be deleted.")

    def envelope(self) -> dict:
        """The event as it travels: the public, versioned envelope."""
        return {
            "id": str(self.id),
            "type": self.type,
            "version": self.version,
            "aggregate_type": self.aggregate_type,
            "aggregate_id": self.aggregate_id,
            "sequence": self.sequence,
            "occurred_at": self.occurred_at.isoformat(),
            "correlation_id": str(self.correlation_id),
            "causation_id": str(self.causation_id) if self.causation_id else None,
            "payload": self.payload,
        }


class AggregateStream(models.Model):
    """The last sequence number handed out per aggregate; its row lock orders emitters."""

    aggregate_type = models.CharField(max_length=100, help_text="Kind of aggregate.")
    aggregate_id = models.CharField(max_length=64, help_text="Id of the aggregate instance.")
    last_sequence = models.PositiveBigIntegerField(
        default=0, help_text="Sequence of the aggregate's latest event."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["aggregate_type", "aggregate_id"], name="events_stream_unique_aggregate"
            )
        ]

    def __str__(self) -> str:
        return f"{self.aggregate_type}:{self.aggregate_id} @ {self.last_sequence}"


class OutboxQuerySet(models.QuerySet):
    def pending(self) -> "OutboxQuerySet":
        return self.filter(published_at__isnull=True)

    def stale(self, *, older_than_seconds: float) -> "OutboxQuerySet":
        cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
        return self.pending().filter(created_at__lte=cutoff)


class OutboxEvent(models.Model):
    """An event waiting to be published to the broker, written with the event itself."""

    event = models.OneToOneField(
        Event, on_delete=models.PROTECT, related_name="outbox", help_text="The event to publish."
    )
    created_at = models.DateTimeField(auto_now_add=True, help_text="When the row was written.")
    published_at = models.DateTimeField(
        null=True, blank=True, help_text="When the broker accepted it; empty while pending."
    )
    attempts = models.PositiveIntegerField(default=0, help_text="Publish attempts so far.")
    last_error = models.TextField(blank=True, help_text="Error of the last failed publish.")

    objects = OutboxQuerySet.as_manager()

    class Meta:
        verbose_name = "outbox event"
        indexes = [
            models.Index(
                fields=["created_at"],
                name="events_outbox_pending_idx",
                condition=models.Q(published_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        state = "published" if self.published_at else "pending"
        return f"{self.event_id} ({state})"
