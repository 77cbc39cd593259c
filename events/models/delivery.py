"""Deliveries of events to subscribers: the inbox, every attempt, and dead letters."""

from django.db import models

from .store import Event


class Delivery(models.Model):
    """One event handed to one subscriber. Unique per pair: this row is the inbox.

    It turns ``succeeded`` in the same transaction as the subscriber's effect, so a
    redelivered event finds it and does nothing.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        WAITING = "waiting", "Waiting for an earlier event of its aggregate"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed (will retry)"
        DEAD = "dead", "Dead"
        DISCARDED = "discarded", "Discarded"

    event = models.ForeignKey(
        Event, on_delete=models.PROTECT, related_name="deliveries", help_text="The event."
    )
    subscriber = models.CharField(max_length=150, help_text="Registered name of the subscriber.")
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.PENDING, help_text="Where it stands."
    )
    attempts = models.PositiveIntegerField(
        default=0, help_text="Attempts in the current round (a replay starts a new round)."
    )
    total_attempts = models.PositiveIntegerField(
        default=0, help_text="Attempts over the delivery's whole life; numbers its attempt log."
    )
    last_error = models.TextField(blank=True, help_text="Error of the last failed attempt.")
    retry_at = models.DateTimeField(
        null=True, blank=True, help_text="When the next attempt is due, while it failed."
    )
    created_at = models.DateTimeField(auto_now_add=True, help_text="When dispatch created it.")
    updated_at = models.DateTimeField(auto_now=True, help_text="Last change.")
    succeeded_at = models.DateTimeField(
        null=True, blank=True, help_text="When the effect committed."
    )

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["event", "subscriber"], name="events_delivery_unique_inbox"
            )
        ]
        indexes = [models.Index(fields=["status", "updated_at"], name="events_delivery_status_idx")]

    def __str__(self) -> str:
        return f"{self.subscriber} <- {self.event_id} ({self.status})"


class SubscriberCursor(models.Model):
    """How far one subscriber got in one aggregate's stream.

    Its row lock makes the deliveries of one (subscriber, aggregate) take turns, which is
    what keeps them in ``sequence`` order however many workers run them.
    """

    subscriber = models.CharField(max_length=150, help_text="Registered name of the subscriber.")
    aggregate_type = models.CharField(max_length=100, help_text="Kind of aggregate.")
    aggregate_id = models.CharField(max_length=64, help_text="Id of the aggregate instance.")
    last_sequence = models.PositiveBigIntegerField(
        default=0, help_text="Sequence of the last event this subscriber handled here."
    )
    has_waiting = models.BooleanField(
        default=False,
        help_text="Whether a later event may be waiting for its turn here (set when one "
        "waits, cleared when none is left).",
    )
    updated_at = models.DateTimeField(auto_now=True, help_text="Last change.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscriber", "aggregate_type", "aggregate_id"],
                name="events_cursor_unique_stream",
            )
        ]

    def __str__(self) -> str:
        return f"{self.subscriber} @ {self.aggregate_type}:{self.aggregate_id}#{self.last_sequence}"


class DeliveryAttempt(models.Model):
    """One try of a delivery: when, how long, which task, and how it ended."""

    delivery = models.ForeignKey(
        Delivery, on_delete=models.CASCADE, related_name="attempt_log", help_text="The delivery."
    )
    number = models.PositiveIntegerField(help_text="1 for the first try.")
    task_id = models.CharField(max_length=255, blank=True, help_text="Celery task id.")
    started_at = models.DateTimeField(help_text="When the try began.")
    duration_ms = models.PositiveIntegerField(help_text="How long it ran.")
    succeeded = models.BooleanField(help_text="Whether the handler's effect committed.")
    error = models.TextField(blank=True, help_text="Exception, if it failed.")
    traceback = models.TextField(blank=True, help_text="Traceback, if it failed.")

    class Meta:
        ordering = ["delivery", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery}"


class DeadLetterQuerySet(models.QuerySet):
    def open(self) -> "DeadLetterQuerySet":
        return self.filter(status=DeadLetter.Status.OPEN)


class DeadLetter(models.Model):
    """A delivery that failed its last attempt, kept for an operator to replay or discard."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        REPLAYED = "replayed", "Replayed"
        DISCARDED = "discarded", "Discarded"

    delivery = models.ForeignKey(
        Delivery, on_delete=models.CASCADE, related_name="dead_letters", help_text="The delivery."
    )
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.OPEN, help_text="Where it stands."
    )
    error = models.TextField(help_text="Error of the last attempt.")
    traceback = models.TextField(blank=True, help_text="Traceback of the last attempt.")
    created_at = models.DateTimeField(auto_now_add=True, help_text="When it died.")
    resolved_at = models.DateTimeField(null=True, blank=True, help_text="Replayed or discarded.")
    resolved_by = models.CharField(max_length=150, blank=True, help_text="Who resolved it.")

    objects = DeadLetterQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="events_deadletter_status_idx")
        ]

    def __str__(self) -> str:
        return f"dead letter {self.pk}: {self.delivery}"


class ProjectionApplied(models.Model):
    """An event a projection has folded in: the projection's own once-only guard."""

    projection = models.CharField(max_length=150, help_text="Registered name of the projection.")
    event_id = models.UUIDField(help_text="The event applied.")
    applied_at = models.DateTimeField(auto_now_add=True, help_text="When.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["projection", "event_id"], name="events_projection_unique_event"
            )
        ]

    def __str__(self) -> str:
        return f"{self.projection} applied {self.event_id}"
