"""One row per try to send an email: when, how long, which task, what went wrong."""

from django.db import models

from .messages import Notification


class EmailAttempt(models.Model):
    class Outcome(models.TextChoices):
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="email_attempts"
    )
    number = models.PositiveIntegerField(help_text="1 for the first try.")
    task_id = models.CharField(max_length=255, blank=True, help_text="Celery task of the try.")
    started_at = models.DateTimeField()
    duration = models.DurationField(help_text="How long the mail server took to answer.")
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    error = models.TextField(blank=True, help_text="The error, when the try failed.")

    class Meta:
        ordering = ["notification", "number", "id"]

    def __str__(self) -> str:
        return f"try {self.number}: {self.outcome}"
