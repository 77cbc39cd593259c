"""Durable records of workflow runs and their steps: the database is the source of truth."""

import uuid

from django.db import models


class WorkflowRun(models.Model):
    """One execution of a declared workflow for one subject (e.g. one order)."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        COMPENSATING = "compensating", "Compensating"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        # Its compensation failed for good: an operator retries it (admin, API, command).
        COMPENSATION_FAILED = "compensation_failed", "Compensation failed"

    TERMINAL = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED, Status.COMPENSATION_FAILED)
    # What a run that compensates becomes once every completed step is undone.
    COMPENSATION_ENDS = (Status.FAILED, Status.CANCELLED)

    class Reason(models.TextChoices):
        """The engine's own failure reasons; a workflow's steps and hooks add their own."""

        CANCELLED = "cancelled", "Cancelled"
        OPERATOR_REQUEST = "operator_request", "Cancelled by an operator"
        TIMEOUT = "timeout", "No signal in time"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workflow = models.CharField(max_length=100, help_text="Registered name of the workflow.")
    subject_type = models.CharField(max_length=100, help_text="Kind of thing it works on.")
    subject_id = models.CharField(max_length=64, help_text="Id of the thing it works on.")
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.RUNNING, help_text="Where it stands."
    )
    input = models.JSONField(default=dict, blank=True, help_text="What the run started with.")
    error = models.TextField(blank=True, help_text="Why it failed, if it did.")
    failure_reason = models.CharField(
        max_length=100, blank=True, help_text="Machine-readable reason of the failure."
    )
    correlation_id = models.UUIDField(
        null=True, blank=True, help_text="Correlation id of the events it handles and emits."
    )
    causation_id = models.UUIDField(
        null=True,
        blank=True,
        help_text="The event or command that started it: the cause of the events its steps emit.",
    )
    compensation_ends_as = models.CharField(
        max_length=20,
        blank=True,
        choices=[(status.value, status.label) for status in COMPENSATION_ENDS],
        help_text="What the run becomes once its compensation completes.",
    )
    compensation_attempts = models.PositiveIntegerField(
        default=0, help_text="Failed tries of its compensation since it began (or was retried)."
    )
    compensation_tried_at = models.DateTimeField(
        null=True, blank=True, help_text="When its compensation was last begun or tried."
    )
    compensation_error = models.TextField(
        blank=True, help_text="Why its compensation failed, which step and how."
    )
    started_at = models.DateTimeField(auto_now_add=True, help_text="When the run began.")
    finished_at = models.DateTimeField(null=True, blank=True, help_text="When it ended.")

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["workflow", "subject_type", "subject_id"],
                name="events_workflowrun_unique_subject",
            )
        ]
        indexes = [
            models.Index(fields=["status", "started_at"], name="events_run_status_idx"),
            models.Index(fields=["subject_type", "subject_id"], name="events_run_subject_idx"),
            models.Index(fields=["correlation_id"], name="events_run_correlation_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.workflow} {self.subject_type}:{self.subject_id} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL

    @property
    def duration(self):  # type: ignore[no-untyped-def]
        return self.finished_at - self.started_at if self.finished_at else None


class StepRun(models.Model):
    """One step of a run: every attempt, its timing, result or error, and its Celery task."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        RETRYING = "retrying", "Retrying"
        WAITING = "waiting", "Waiting for a signal"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        COMPENSATED = "compensated", "Compensated"
        SKIPPED = "skipped", "Skipped"

    run = models.ForeignKey(
        WorkflowRun, on_delete=models.CASCADE, related_name="steps", help_text="The run."
    )
    name = models.CharField(max_length=100, help_text="Step name within the workflow.")
    task_name = models.CharField(max_length=200, help_text="Celery task that runs the step.")
    stage = models.PositiveIntegerField(help_text="Position in the workflow; equal = parallel.")
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.PENDING, help_text="Where it stands."
    )
    attempts = models.PositiveIntegerField(default=0, help_text="Attempts so far.")
    task_id = models.CharField(max_length=255, blank=True, help_text="Celery id of the last try.")
    queued_at = models.DateTimeField(null=True, blank=True, help_text="When it was last sent.")
    retry_at = models.DateTimeField(
        null=True, blank=True, help_text="When the next attempt is due, while retrying."
    )
    compensation_sent_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="For a step that finished after its run stopped: when its compensation "
        "was last sent.",
    )
    waiting_for = models.CharField(
        max_length=100, blank=True, help_text="Signal the step waits for, while waiting."
    )
    wait_deadline = models.DateTimeField(
        null=True, blank=True, help_text="When the wait times out and the step fails."
    )
    waited = models.BooleanField(
        default=False,
        help_text="It did its part, then waited for a signal: if the wait fails, it is "
        "undone like a completed step.",
    )
    timeout_reason = models.CharField(
        max_length=100, blank=True, help_text="Failure reason if the wait times out."
    )
    result = models.JSONField(null=True, blank=True, help_text="What the step returned.")
    error = models.TextField(blank=True, help_text="Error of the last failed attempt.")
    traceback = models.TextField(blank=True, help_text="Traceback of the last failed attempt.")
    started_at = models.DateTimeField(null=True, blank=True, help_text="Start of the last try.")
    finished_at = models.DateTimeField(null=True, blank=True, help_text="When it ended.")
    compensated_at = models.DateTimeField(
        null=True, blank=True, help_text="When its compensation ran."
    )

    class Meta:
        ordering = ["run", "stage", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "name"], name="events_steprun_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"

    @property
    def duration(self):  # type: ignore[no-untyped-def]
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None
