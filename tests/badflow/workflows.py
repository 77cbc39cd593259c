from events.workflows import StepContext, Workflow, register, step


@step("badflow.only")
def only(ctx: StepContext) -> None:
    """The step is fine; the workflow lists it twice."""


register(Workflow("badflow.twice", subject_type="thing", stages=[only, only]))
