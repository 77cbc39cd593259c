"""Workflow declarations made by hand: no Celery task, nothing left in the global registries."""

from events.workflows import RetryPolicy, StepSpec, Workflow


def make_step(name: str) -> StepSpec:
    """A step spec made by hand: no Celery task, nothing left in the global registries."""
    return StepSpec(
        name=name,
        task_name=f"tests.{name}",
        fn=lambda ctx: None,
        retry=RetryPolicy(),
        soft_time_limit=1,
        time_limit=2,
        atomic=True,
    )


def workflow(*stages: object, name: str = "tests.workflow") -> Workflow:
    return Workflow(name, subject_type="thing", stages=list(stages))  # type: ignore[arg-type]
