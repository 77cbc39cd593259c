"""Messages sent to people: by email and in the app, one row per recipient and channel.

An in-app row is the message itself, shown in the recipient's inbox. An email row is also
the record of its delivery: status, tries (``EmailAttempt``), last error, when it went.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Notification(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        IN_APP = "in_app", "In-app"

    class Kind(models.TextChoices):
        """What a notification is about; each kind has its templates (see services)."""

        ORDER_CONFIRMATION = "order_confirmation", "Order confirmed"
        ORDER_FULFILLED = "order_fulfilled", "Order shipped"
        ORDER_FAILED = "order_failed", "Order failed"
        ORDER_CANCELLED = "order_cancelled", "Order cancelled"
        ORDER_REFUNDED = "order_refunded", "Order refunded"
        WEBHOOK_DISABLED = "webhook_disabled", "Webhook subscription disabled"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed, retrying"
        GIVEN_UP = "given_up", "Given up"
        SKIPPED = "skipped", "Skipped"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    channel = models.CharField(max_length=20, choices=Channel.choices)
    kind = models.CharField(max_length=50, choices=Kind.choices, help_text="What it is about.")
    subject = models.CharField(max_length=200)
    body = models.TextField(help_text="Plain text.")
    html_body = models.TextField(
        blank=True, help_text="The email's HTML alternative, when its kind has one."
    )
    order_id = models.BigIntegerField(null=True, blank=True, help_text="Order it is about.")
    event_id = models.UUIDField(null=True, blank=True, help_text="Event that caused it.")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=20,
        choices=Status.choices,
        help_text="In-app: sent when written. Email: queued, sending, sent, failed (retrying) "
        "or given up. Skipped: the recipient switched the channel off, or has no address.",
    )
    to_address = models.EmailField(blank=True, help_text="Where the email went.")
    attempts = models.PositiveIntegerField(default=0, help_text="Tries to send the email.")
    last_error = models.TextField(
        blank=True, help_text="Why the latest try failed, or why nothing was sent."
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the next try is due; while sending, when the try is presumed lost.",
    )
    task_id = models.CharField(max_length=255, blank=True, help_text="Celery task of the try.")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # A retried workflow step tells the customer once per order and kind.
            models.UniqueConstraint(
                fields=["user", "kind", "order_id", "channel"],
                name="notifications_unique_per_order_kind",
            ),
            # A redelivered event tells each recipient once per channel.
            models.UniqueConstraint(
                fields=["user", "channel", "event_id"],
                condition=Q(event_id__isnull=False),
                name="notifications_unique_per_event",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "channel", "read_at"], name="notifications_inbox_idx"),
            models.Index(fields=["status", "next_attempt_at"], name="notifications_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.user}: {self.subject}"


# What customers are told about their orders; every other kind is a staff alert.
CUSTOMER_KINDS = (
    Notification.Kind.ORDER_CONFIRMATION,
    Notification.Kind.ORDER_FULFILLED,
    Notification.Kind.ORDER_FAILED,
    Notification.Kind.ORDER_CANCELLED,
    Notification.Kind.ORDER_REFUNDED,
)
