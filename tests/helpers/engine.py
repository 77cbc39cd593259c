"""Reading what the engine left behind: a step's row, what the probe steps recorded."""

from events.models import StepRun, WorkflowRun
from tests.probe.models import Record


def step(run: WorkflowRun, name: str) -> StepRun:
    return run.steps.get(name=name)


def records() -> list[str]:
    """What the probe steps and their compensations did, in order ("c", "undo-a", ...)."""
    return list(Record.objects.order_by("id").values_list("subscriber", flat=True))
