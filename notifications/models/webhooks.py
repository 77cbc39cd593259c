"""Webhooks to the Standard Webhooks spec: subscriptions, deliveries and every attempt."""

import base64
import secrets

from django.db import models
from django.db.models import Q

from events.models import Event

SECRET_PREFIX = "whsec_"


def new_webhook_secret() -> str:
    """A signing secret in the spec's form: ``whsec_`` and base64 of 24 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


class WebhookSubscriptionQuerySet(models.QuerySet):
    def active(self) -> "WebhookSubscriptionQuerySet":
        return self.filter(is_active=True)

    def failing(self) -> "WebhookSubscriptionQuerySet":
        return self.filter(failing_since__isnull=False)


class WebhookSubscription(models.Model):
    """An endpoint that receives events as signed POST requests."""

    url = models.URLField(max_length=2000, help_text="Where the events are POSTed (http or https).")
    secret = models.CharField(
        max_length=100,
        default=new_webhook_secret,
        editable=False,
        help_text="Signing secret (whsec_...), shown once when the subscription is created.",
    )
    event_types = models.JSONField(
        default=list, blank=True, help_text="Event types it wants; empty for every type."
    )
    is_active = models.BooleanField(default=True, help_text="Whether events are sent to it.")
    description = models.CharField(max_length=200, blank=True, help_text="What it is for.")
    ordered = models.BooleanField(
        default=False,
        help_text="Deliver each aggregate's events one at a time, in sequence order: the next "
        "waits until the previous one is delivered or given up.",
    )
    consecutive_failures = models.PositiveIntegerField(
        default=0, help_text="Deliveries given up in a row since the last success."
    )
    failing_since = models.DateTimeField(
        null=True, blank=True, help_text="First failed attempt since the last success."
    )
    disabled_at = models.DateTimeField(null=True, blank=True, help_text="When it was disabled.")
    disabled_reason = models.CharField(max_length=300, blank=True, help_text="Why.")
    created_at = models.DateTimeField(auto_now_add=True, help_text="When it was created.")

    objects = WebhookSubscriptionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["is_active"], name="notif_webhook_sub_active_idx")]

    def __str__(self) -> str:
        return self.description or self.url

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class WebhookDelivery(models.Model):
    """One event sent to one subscription, with retries. The row is the schedule."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        WAITING = "waiting", "Waiting for an earlier event of its aggregate"
        SENDING = "sending", "Sending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed (will retry)"
        GIVEN_UP = "given_up", "Given up"

    subscription = models.ForeignKey(
        WebhookSubscription,
        on_delete=models.CASCADE,
        related_name="deliveries",
        help_text="Where it goes.",
    )
    event = models.ForeignKey(
        Event,
        on_delete=models.PROTECT,
        related_name="webhook_deliveries",
        help_text="What it carries; its id is the webhook-id header.",
    )
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.PENDING, help_text="Where it stands."
    )
    attempts = models.PositiveIntegerField(
        default=0, help_text="Attempts in the current round (a redelivery starts a new round)."
    )
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="When the next attempt is due, while one is."
    )
    queued_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the task message for the due attempt was sent (or will arrive, for a "
        "countdown); the beat task sends it again if nothing happened long after.",
    )
    last_status_code = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="HTTP status of the last answer."
    )
    last_error = models.TextField(blank=True, help_text="Why the last attempt failed.")
    created_at = models.DateTimeField(auto_now_add=True, help_text="When the event fanned out.")
    updated_at = models.DateTimeField(auto_now=True, help_text="Last change.")
    delivered_at = models.DateTimeField(
        null=True, blank=True, help_text="When a receiver last answered 2xx."
    )

    class Meta:
        verbose_name_plural = "webhook deliveries"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event"], name="notif_webhook_delivery_unique"
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "failed"]),
                name="notif_webhook_delivery_due_idx",
            ),
            models.Index(fields=["subscription", "status"], name="notif_webhook_delivery_sub_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} to {self.subscription_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One POST of a delivery: when, how long, and what the receiver said."""

    delivery = models.ForeignKey(
        WebhookDelivery,
        on_delete=models.CASCADE,
        related_name="attempt_log",
        help_text="The delivery.",
    )
    number = models.PositiveIntegerField(help_text="1 for the first attempt, over all rounds.")
    started_at = models.DateTimeField(help_text="When the attempt began.")
    duration_ms = models.PositiveIntegerField(
        null=True, blank=True, help_text="How long it took; empty while it runs."
    )
    status_code = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="HTTP status of the answer, if one came."
    )
    error = models.TextField(blank=True, help_text="Why it failed (no answer, non-2xx, refused).")
    response_excerpt = models.TextField(blank=True, help_text="Start of the answer's body.")

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["delivery", "number"], name="notif_webhook_attempt_unique"
            )
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
