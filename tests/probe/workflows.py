"""Workflows for engine tests: each step records itself; its input decides how it behaves."""

import time
import uuid

from events.workflows import (
    RetryPolicy,
    StepContext,
    StepFailed,
    Wait,
    Workflow,
    parallel,
    register,
    step,
)

from .models import Record, Switch


def _record(ctx: StepContext, what: str) -> None:
    Record.objects.create(
        subscriber=what, aggregate_id=ctx.subject_id, sequence=ctx.attempt, event_id=uuid.uuid4()
    )


def _undo(name: str):  # type: ignore[no-untyped-def]
    def compensate(ctx: StepContext) -> None:
        _record(ctx, f"undo-{name}")

    return compensate


@step("probe.step_a")
def a(ctx: StepContext) -> dict:
    _record(ctx, "a")
    return {"a": True}


a.compensation(_undo("a"))


@step(
    "probe.step_b",
    soft_time_limit=2,
    retry=RetryPolicy(max_attempts=3, backoff=0.1, retry_on=(ConnectionError,)),
)
def b(ctx: StepContext) -> dict:
    """Fails as its input says: transiently N times, fatally, too slowly, or until healed."""
    if ctx.attempt <= ctx.input.get("b_transient", 0):
        raise ConnectionError(f"transient failure {ctx.attempt}")
    if ctx.input.get("b_fatal") and not Switch.is_on("b-healed"):
        raise StepFailed("b_refused", "b refuses for good")
    time.sleep(ctx.input.get("b_sleep", 0))
    _record(ctx, "b")
    return {"b": ctx.attempt}


b.compensation(_undo("b"))


@step("probe.step_c")
def c(ctx: StepContext) -> None:
    _record(ctx, "c")


c.compensation(_undo("c"))


@step("probe.step_d")
def d(ctx: StepContext) -> None:
    _record(ctx, "d")


d.compensation(_undo("d"))


@step("probe.step_e")
def e(ctx: StepContext) -> None:
    if ctx.input.get("e_fatal"):
        raise StepFailed("e_refused")
    _record(ctx, "e")


@step("probe.await_go")
def await_go(ctx: StepContext) -> Wait:
    _record(ctx, "await")
    return Wait(
        signal="probe.go", timeout_seconds=ctx.input.get("timeout", 60), timeout_reason="no_go"
    )


await_go.compensation(_undo("await"))


@step("probe.plain")
def plain(ctx: StepContext) -> None:
    """A step without compensation: a retried run must not run it again."""
    _record(ctx, "plain")


@step("probe.slow", soft_time_limit=5, time_limit=6)
def slow(ctx: StepContext) -> None:
    _record(ctx, "slow")  # rolled back if the worker dies before the step commits
    time.sleep(ctx.input.get("sleep", 3))


flow = register(Workflow("probe.flow", subject_type="probe", stages=[a, b, parallel(c, d), e]))
waiting = register(Workflow("probe.waiting", subject_type="probe", stages=[a, await_go, e]))
retryable = register(Workflow("probe.retryable", subject_type="probe", stages=[plain, b, e]))
crashy = register(Workflow("probe.crashy", subject_type="probe", stages=[plain, slow, e]))
