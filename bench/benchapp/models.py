from django.db import models
from django.utils import timezone


class PlainRow(models.Model):
    """The plain-INSERT baseline of the emit benchmark: an ``events.Event`` row, nothing else.

    Same columns, primary key and indexes as the event store, so the only difference
    measured is what emitting adds (sequence, outbox, validation, after-commit hook).
    """

    id = models.UUIDField(primary_key=True)
    type = models.CharField(max_length=100)
    version = models.PositiveIntegerField()
    aggregate_type = models.CharField(max_length=100)
    aggregate_id = models.CharField(max_length=64)
    sequence = models.PositiveBigIntegerField()
    occurred_at = models.DateTimeField(default=timezone.now)
    correlation_id = models.UUIDField()
    causation_id = models.UUIDField(null=True, blank=True)
    payload = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["aggregate_type", "aggregate_id", "sequence"],
                name="benchapp_plainrow_unique_sequence",
            )
        ]
        indexes = [
            models.Index(fields=["type", "occurred_at"], name="benchapp_plainrow_type_idx"),
            models.Index(fields=["correlation_id"], name="benchapp_plainrow_corr_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.aggregate_type}:{self.aggregate_id}#{self.sequence}"
