"""Starting a run: its rows first, then its first stage after commit."""

import uuid
from typing import Any

from ...models import StepRun, WorkflowRun
from ..registry import get
from .progress import advance


def workflow_start(
    *,
    workflow: str,
    subject_id: Any,
    input: dict[str, Any] | None = None,
    correlation_id: uuid.UUID | None = None,
) -> WorkflowRun:
    """Create the run and its steps, and queue the first stage after commit.

    Idempotent: one run per (workflow, subject); a second start returns the first run.
    """
    definition = get(workflow)
    run, created = WorkflowRun.objects.get_or_create(
        workflow=definition.name,
        subject_type=definition.subject_type,
        subject_id=str(subject_id),
        defaults={"input": input or {}, "correlation_id": correlation_id},
    )
    if created:
        StepRun.objects.bulk_create(
            StepRun(run=run, name=spec.name, task_name=spec.task_name, stage=index)
            for index, stage in enumerate(definition.stages)
            for spec in stage.steps
        )
        advance(run)
    return run
