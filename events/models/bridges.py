"""The bridges to outside brokers: each outbound bridge's checkpoint, the inbound inbox and
the inbound messages that could not be taken in."""

from django.db import models

from .store import Event


class BridgeCheckpoint(models.Model):
    """How far one outbound bridge got in the event store, and whether it is paused.

    ``position`` is the id of the last outbox row the broker acknowledged (outbox ids follow
    the order events were stored in); the bridge moves it only after the acknowledgement,
    so a bridge that crashes resumes there and publishes nothing less.
    """

    name = models.CharField(max_length=100, unique=True, help_text="The bridge's name.")
    position = models.PositiveBigIntegerField(
        default=0, help_text="Id of the last outbox row published and acknowledged."
    )
    gaps = models.JSONField(
        default=list,
        blank=True,
        help_text="Outbox ids passed over while their transaction had not committed: "
        "published if they appear later.",
    )
    paused = models.BooleanField(default=False, help_text="A paused bridge publishes nothing.")
    published = models.PositiveBigIntegerField(default=0, help_text="Events published so far.")
    last_published_at = models.DateTimeField(
        null=True, blank=True, help_text="When the broker last acknowledged a batch."
    )
    last_error = models.TextField(blank=True, help_text="The last publish error, if any.")
    updated_at = models.DateTimeField(auto_now=True, help_text="Last change.")

    class Meta:
        verbose_name = "outbound bridge"

    def __str__(self) -> str:
        return f"{self.name} @ {self.position}{' (paused)' if self.paused else ''}"


class InboundEvent(models.Model):
    """An event taken in from an outside broker: the inbox that drops its duplicates.

    Unique per (source, id), as CloudEvents identifies an event; written in the same
    transaction as the stored event and its subscribers' effects.
    """

    source = models.CharField(max_length=255, help_text="CloudEvents source of the sender.")
    external_id = models.CharField(max_length=255, help_text="CloudEvents id given by the sender.")
    event = models.OneToOneField(
        Event, on_delete=models.PROTECT, related_name="inbound", help_text="The stored event."
    )
    transport = models.CharField(max_length=20, help_text="kafka or sqs.")
    channel = models.CharField(max_length=255, help_text="Topic or queue it came from.")
    received_at = models.DateTimeField(auto_now_add=True, help_text="When it was taken in.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="events_inbound_unique_event"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.external_id}"


class InboundDeadLetter(models.Model):
    """An inbound message that could not be taken in, kept whole with the reason."""

    transport = models.CharField(max_length=20, help_text="kafka or sqs.")
    channel = models.CharField(max_length=255, help_text="Topic or queue it came from.")
    reference = models.CharField(
        max_length=255, blank=True, help_text="Where it was: partition and offset, or message id."
    )
    body = models.TextField(help_text="The message as received.")
    headers = models.JSONField(default=dict, blank=True, help_text="Headers or attributes.")
    reason = models.TextField(help_text="Why it was refused.")
    created_at = models.DateTimeField(auto_now_add=True, help_text="When it was refused.")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "inbound dead letter"
        indexes = [models.Index(fields=["created_at"], name="events_inbound_dead_idx")]

    def __str__(self) -> str:
        return f"{self.transport}:{self.channel} {self.reference}"
