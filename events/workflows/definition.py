"""How workflows are declared: steps, parallel groups, retry policies, compensations."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.core.exceptions import ImproperlyConfigured

from ..retry import backoff_delay, countdown


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


_steps: dict[str, StepSpec] = {}


def step(
    task_name: str,
    *,
    retry: RetryPolicy | None = None,
    soft_time_limit: float = 30,
    time_limit: float | None = None,
    atomic: bool = True,
) -> Callable[[StepFunction], StepSpec]:
    """Make ``fn`` a workflow step run by the Celery task ``task_name``.

    With ``atomic`` (the default) the step's writes commit in one transaction with its
    success, so a step redelivered after a crash has either fully happened or not at all.
    A step that calls the outside world sets ``atomic=False`` and must be idempotent.
    """

    def decorator(fn: StepFunction) -> StepSpec:
        if task_name in _steps:
            raise ImproperlyConfigured(f"Workflow step task {task_name!r} is declared twice.")
        spec = StepSpec(
            name=fn.__name__,
            task_name=task_name,
            fn=fn,
            retry=retry or RetryPolicy(),
            soft_time_limit=soft_time_limit,
            time_limit=time_limit or soft_time_limit + 15,
            atomic=atomic,
        )

        def run_step(self: Any, run_id: str, step: str) -> None:
            from .engine import step_execute

            outcome = step_execute(run_id=run_id, step_name=step, task_id=self.request.id or "")
            if outcome.retry_in is not None:
                raise self.retry(countdown=countdown(outcome.retry_in), max_retries=None)

        run_step.__name__ = fn.__name__
        run_step.__doc__ = fn.__doc__
        spec.task = shared_task(
            bind=True,
            name=task_name,
            soft_time_limit=soft_time_limit,
            time_limit=spec.time_limit,
            acks_late=True,
        )(run_step)
        _steps[task_name] = spec
        return spec

    return decorator


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
            raise ImproperlyConfigured(f"Workflow {self.name!r} has no steps.")
        seen: set[str] = set()
        for stage in self.stages:
            if not stage.steps:
                raise ImproperlyConfigured(f"Workflow {self.name!r} has an empty parallel group.")
            for spec in stage.steps:
                if not isinstance(spec, StepSpec):
                    raise ImproperlyConfigured(
                        f"Workflow {self.name!r}: {spec!r} is not a step; decorate it with @step."
                    )
                if spec.name in seen:
                    raise ImproperlyConfigured(
                        f"Workflow {self.name!r} lists step {spec.name!r} twice."
                    )
                seen.add(spec.name)
        if self.point_of_no_return is not None and self.point_of_no_return.name not in seen:
            raise ImproperlyConfigured(
                f"Workflow {self.name!r}: its point of no return "
                f"{self.point_of_no_return.name!r} is not one of its steps."
            )

    def step(self, name: str) -> StepSpec:
        try:
            return self.steps[name]
        except KeyError:
            raise LookupError(f"Workflow {self.name!r} has no step {name!r}") from None


_workflows: dict[str, Workflow] = {}


def register(workflow: Workflow) -> Workflow:
    if workflow.name in _workflows:
        raise ImproperlyConfigured(f"Workflow {workflow.name!r} is registered twice.")
    _workflows[workflow.name] = workflow
    return workflow


def get(name: str) -> Workflow:
    try:
        return _workflows[name]
    except KeyError:
        raise LookupError(f"Unknown workflow: {name}") from None


def all_workflows() -> list[Workflow]:
    return sorted(_workflows.values(), key=lambda w: w.name)
