"""Per user, per kind and channel: does the user want to be told? Without a row: yes."""

from django.conf import settings
from django.db import models

from .messages import Notification


class NotificationPreference(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    kind = models.CharField(max_length=50, choices=Notification.Kind.choices)
    channel = models.CharField(max_length=20, choices=Notification.Channel.choices)
    enabled = models.BooleanField(default=True, help_text="Off: nothing is sent on it.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user", "kind", "channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "channel"], name="notifications_one_preference"
            )
        ]

    def __str__(self) -> str:
        state = "on" if self.enabled else "off"
        return f"{self.user}: {self.kind} by {self.channel} {state}"
