"""Starting a run: its rows first, then its first stage after commit."""

import uuid
from typing import Any

from ...context import current_cause
from ...models import StepRun, WorkflowRun
from ..registry import get
from .progress import advance


def workflow_start(
    *,
    workflow: str,
    subject_id: Any,
    input: dict[str, Any] | None = None,
    correlation_id: uuid.UUID | None = None,
    causation_id: uuid.UUID | None = None,
) -> WorkflowRun:
    """Create the run and its steps, and queue the first stage after commit.

    Idempotent: one run per (workflow, subject); a second start returns the first run.
    Causation defaults to the current cause (the event being handled, the request), and
    correlation to its fixed one: the events the run's steps emit carry them.
    """
    definition = get(workflow)
    cause = current_cause()
    if cause is not None:
        causation_id = causation_id or cause.causation_id
        if cause.fixed:
            correlation_id = correlation_id or cause.correlation_id
    run, created = WorkflowRun.objects.get_or_create(
        workflow=definition.name,
        subject_type=definition.subject_type,
        subject_id=str(subject_id),
        defaults={
            "input": input or {},
            "correlation_id": correlation_id,
            "causation_id": causation_id,
        },
    )
    if created:
        StepRun.objects.bulk_create(
            StepRun(run=run, name=spec.name, task_name=spec.task_name, stage=index)
            for index, stage in enumerate(definition.stages)
            for spec in stage.steps
        )
        advance(run)
    return run
