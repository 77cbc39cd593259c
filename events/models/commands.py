"""Commands from outside (a web request, so far) that caused events: the roots of a story."""

from django.db import models


class Command(models.Model):
    """A request that emitted events, recorded with the first of them.

    Its id is the request's ``X-Request-ID``: the ``causation_id`` of the events it
    emitted. Only requests that emitted something are recorded, in the same transaction.
    """

    id = models.UUIDField(primary_key=True, editable=False, help_text="The request id.")
    name = models.CharField(max_length=300, help_text='What was asked, e.g. "POST /api/orders/".')
    correlation_id = models.UUIDField(help_text="The flow its events belong to.")
    received_at = models.DateTimeField(help_text="When the request came in.")

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["correlation_id"], name="events_command_correlation_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"
