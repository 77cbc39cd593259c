"""Messages sent to customers: by email and in the app."""

from django.conf import settings
from django.db import models


class Notification(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        IN_APP = "in_app", "In-app"

    class Kind(models.TextChoices):
        """What a notification is about; each kind has its templates (see services)."""

        ORDER_CONFIRMATION = "order_confirmation", "Order confirmed"
        ORDER_FULFILLED = "order_fulfilled", "Order fulfilled"
        ORDER_FAILED = "order_failed", "Order failed"
        ORDER_CANCELLED = "order_cancelled", "Order cancelled"
        WEBHOOK_DISABLED = "webhook_disabled", "Webhook subscription disabled"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    channel = models.CharField(max_length=20, choices=Channel.choices)
    kind = models.CharField(max_length=50, choices=Kind.choices, help_text="What it is about.")
    subject = models.CharField(max_length=200)
    body = models.TextField()
    order_id = models.BigIntegerField(null=True, blank=True, help_text="Order it is about.")
    event_id = models.UUIDField(null=True, blank=True, help_text="Event that caused it.")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "order_id"],
                name="notifications_unique_per_order_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.user}: {self.subject}"
