"""What a workflow is made of: steps, parallel groups, retry policies, compensations.

Plain declarations: making a step a Celery task is ``steps.step``'s job, and finding a
workflow by name is the registry's.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.core.exceptions import ImproperlyConfigured

from ..retry import backoff_delay

# What a definition that cannot work is refused with, at import.
NO_STEPS = "Workflow {workflow!r} has no steps."
EMPTY_PARALLEL_GROUP = "Workflow {workflow!r} has an empty parallel group."
NOT_A_STEP = "Workflow {workflow!r}: {stage!r} is not a step; decorate it with @step."
STEP_LISTED_TWICE = "Workflow {workflow!r} lists step {step!r} twice."
POINT_OF_NO_RETURN_ELSEWHERE = (
    "Workflow {workflow!r}: its point of no return {step!r} is not one of its steps."
)


class StepFailed(Exception):
    """A failure that retrying cannot heal (a declined card): compensate and fail the run."""

    def __init__(self, reason: str, message: str = "") -> None:
        self.reason = reason
        super().__init__(message or reason)


class StepCancelled(Exception):
    """The run was cancelled while this step ran: its work is rolled back or undone."""


class CancelRefused(Exception):
    """Raised by a workflow's ``before_cancel`` or ``on_cancel`` hook: the subject is past
    the point of no return and the run goes on."""


class WorkflowNotRetryable(Exception):
    """Only a failed run can be retried (and its ``on_retry`` hook may refuse too)."""


@dataclass(frozen=True)
class Wait:
    """What a step returns to park its run until ``signal`` arrives.

    ``workflow_signal`` resumes it (or fails it, with a reason); without a signal within
    ``timeout_seconds`` the step fails with ``timeout_reason`` and the run compensates.
    """

    signal: str
    timeout_seconds: float
    timeout_reason: str = "timeout"
    result: dict[str, Any] | None = None


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, capped, for the errors listed in ``retry_on``."""

    max_attempts: int = 1
    backoff: float = 1.0
    max_backoff: float = 60.0
    jitter: bool = True
    retry_on: tuple[type[BaseException], ...] = (SoftTimeLimitExceeded,)

    def should_retry(self, exc: BaseException, attempts: int) -> bool:
        if isinstance(exc, StepFailed | StepCancelled):
            return False
        return attempts < self.max_attempts and isinstance(exc, self.retry_on)

    def delay(self, attempts: int) -> float:
        return backoff_delay(attempts, base=self.backoff, cap=self.max_backoff, jitter=self.jitter)


@dataclass(frozen=True)
class StepContext:
    """What a step (or its compensation) gets: one object, so fields can be added later."""

    run_id: uuid.UUID
    workflow: str
    step: str
    subject_id: str
    input: dict[str, Any]
    results: dict[str, Any]
    attempt: int


StepFunction = Callable[[StepContext], "dict[str, Any] | Wait | None"]


@dataclass
class StepSpec:
    name: str
    task_name: str
    fn: StepFunction
    retry: RetryPolicy
    soft_time_limit: float
    time_limit: float
    atomic: bool
    compensate: Callable[[StepContext], None] | None = None
    task: Any = field(default=None, repr=False)

    def compensation(self, fn: Callable[[StepContext], None]) -> Callable[[StepContext], None]:
        """Declare, beside the step, the function that undoes it."""
        self.compensate = fn
        return fn


@dataclass(frozen=True)
class Stage:
    steps: tuple[StepSpec, ...]


def parallel(*steps: StepSpec) -> Stage:
    return Stage(steps=steps)


Hook = Callable[..., None]


class Workflow:
    """Stages run one after the other; the steps of one stage run in parallel."""

    def __init__(
        self,
        name: str,
        *,
        subject_type: str,
        stages: list[StepSpec | Stage],
        on_success: Hook | None = None,
        on_failure: Hook | None = None,
        on_retry: Hook | None = None,
        before_cancel: Hook | None = None,
        on_cancel: Hook | None = None,
        point_of_no_return: StepSpec | None = None,
        description: str = "",
    ) -> None:
        self.name = name
        self.subject_type = subject_type
        self.description = description
        self.stages = [s if isinstance(s, Stage) else Stage(steps=(s,)) for s in stages]
        self.on_success = on_success
        self.on_failure = on_failure
        self.on_retry = on_retry
        self.before_cancel = before_cancel
        self.on_cancel = on_cancel
        # Once this step succeeded, what it did cannot be taken back (a parcel handed to
        # the carrier): a later failure leaves the run failed for an operator to retry
        # from its failed step, and undoes nothing.
        self.point_of_no_return = point_of_no_return
        self._check()
        self.steps = {spec.name: spec for stage in self.stages for spec in stage.steps}

    def _check(self) -> None:
        if not self.stages:
            raise ImproperlyConfigured(NO_STEPS.format(workflow=self.name))
        seen: set[str] = set()
        for stage in self.stages:
            if not stage.steps:
                raise ImproperlyConfigured(EMPTY_PARALLEL_GROUP.format(workflow=self.name))
            for spec in stage.steps:
                if not isinstance(spec, StepSpec):
                    raise ImproperlyConfigured(NOT_A_STEP.format(workflow=self.name, stage=spec))
                if spec.name in seen:
                    raise ImproperlyConfigured(
                        STEP_LISTED_TWICE.format(workflow=self.name, step=spec.name)
                    )
                seen.add(spec.name)
        if self.point_of_no_return is not None and self.point_of_no_return.name not in seen:
            raise ImproperlyConfigured(
                POINT_OF_NO_RETURN_ELSEWHERE.format(
                    workflow=self.name, step=self.point_of_no_return.name
                )
            )

    def step(self, name: str) -> StepSpec:
        try:
            return self.steps[name]
        except KeyError:
            raise LookupError(f"Workflow {self.name!r} has no step {name!r}") from None
