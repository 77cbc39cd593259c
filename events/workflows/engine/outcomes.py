"""What a try of a step comes to, and the refusals the engine raises."""

from dataclasses import dataclass
from enum import StrEnum

from ...models import StepRun
from ..definition import CancelRefused


class StepResult(StrEnum):
    """The outcome of one message of a step task (the first four are also step statuses)."""

    SUCCEEDED = StepRun.Status.SUCCEEDED.value
    RETRYING = StepRun.Status.RETRYING.value
    FAILED = StepRun.Status.FAILED.value
    SKIPPED = StepRun.Status.SKIPPED.value
    # The run is not running, or the step is not queued: a duplicate message did nothing.
    NOT_RUNNABLE = "not-runnable"
    # Another try took the step over while this one ran: this one recorded nothing.
    SUPERSEDED = "superseded"
    # The step finished after its run stopped: recorded, and its compensation sent.
    LATE = "late"


@dataclass(frozen=True)
class StepOutcome:
    status: StepResult
    retry_in: float | None = None


class Superseded(Exception):
    """Another copy of the step's message took the step over: this copy records nothing."""


class RunEnded(CancelRefused):
    """A run that already ended cannot be cancelled."""

    def __init__(self, status: str) -> None:
        self.status = status
        super().__init__(f"The run is already {status}.")
