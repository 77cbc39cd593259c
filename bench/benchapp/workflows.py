"""A workflow of the same shape as ``orders.fulfillment`` whose steps do nothing."""

from events.workflows import StepContext, Workflow, parallel, register, step


@step("bench.step_a")
def step_a(ctx: StepContext) -> None:
    return None


@step("bench.step_b")
def step_b(ctx: StepContext) -> None:
    return None


@step("bench.step_c")
def step_c(ctx: StepContext) -> None:
    return None


@step("bench.step_d")
def step_d(ctx: StepContext) -> None:
    return None


@step("bench.step_e")
def step_e(ctx: StepContext) -> None:
    return None


fulfillment_shape = register(
    Workflow(
        "bench.fulfillment_shape",
        subject_type="bench",
        description="step -> step -> parallel(step, step) -> step, every step a no-op.",
        stages=[step_a, step_b, parallel(step_c, step_d), step_e],
    )
)
