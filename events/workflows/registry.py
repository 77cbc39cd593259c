"""The declared workflows and step tasks, found by name."""

from django.core.exceptions import ImproperlyConfigured

from .definition import StepSpec, Workflow

REGISTERED_TWICE = "Workflow {workflow!r} is registered twice."
STEP_TASK_DECLARED_TWICE = "Workflow step task {task_name!r} is declared twice."

_workflows: dict[str, Workflow] = {}
_step_tasks: dict[str, StepSpec] = {}


def register(workflow: Workflow) -> Workflow:
    if workflow.name in _workflows:
        raise ImproperlyConfigured(REGISTERED_TWICE.format(workflow=workflow.name))
    _workflows[workflow.name] = workflow
    return workflow


def unregister(name: str) -> None:
    """Forget a workflow (a test's, or one a project replaces); unknown names are ignored."""
    _workflows.pop(name, None)


def get(name: str) -> Workflow:
    try:
        return _workflows[name]
    except KeyError:
        raise LookupError(f"Unknown workflow: {name}") from None


def get_step(task_name: str) -> StepSpec:
    """The step run by the task ``task_name``."""
    try:
        return _step_tasks[task_name]
    except KeyError:
        raise LookupError(f"No workflow step is run by task {task_name!r}") from None


def register_step(spec: StepSpec) -> None:
    """Claim the step's task name: two steps run by one task could not be told apart."""
    if spec.task_name in _step_tasks:
        raise ImproperlyConfigured(STEP_TASK_DECLARED_TWICE.format(task_name=spec.task_name))
    _step_tasks[spec.task_name] = spec
