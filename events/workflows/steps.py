"""Declaring a step: a function becomes a named Celery task whose body is the engine's."""

import time
from collections.abc import Callable
from typing import Any

from celery import shared_task

from .. import instruments
from ..retry import countdown
from .definition import RetryPolicy, StepFunction, StepSpec
from .engine import StepResult, step_execute
from .registry import register_step


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
        spec = StepSpec(
            name=fn.__name__,
            task_name=task_name,
            fn=fn,
            retry=retry or RetryPolicy(),
            soft_time_limit=soft_time_limit,
            time_limit=time_limit or soft_time_limit + 15,
            atomic=atomic,
        )
        register_step(spec)

        def run_step(self: Any, run_id: str, step: str, **trace: str) -> None:
            started = time.monotonic()
            outcome = step_execute(run_id=run_id, step_name=step, task_id=self.request.id or "")
            if outcome.status != StepResult.NOT_RUNNABLE:  # a duplicate message did nothing
                instruments.step_tried(
                    step=step, result=outcome.status, seconds=time.monotonic() - started
                )
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
            # The step's retry policy counts and bounds its tries; Celery's own default
            # (three retries) would strand a step whose policy allows more.
            max_retries=None,
        )(run_step)
        return spec

    return decorator
