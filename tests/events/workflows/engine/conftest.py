"""Fixtures of the engine's tests: runs of a small workflow, in the rows a race leaves."""

from collections.abc import Callable

import pytest

from events.models import StepRun, WorkflowRun
from events.workflows import Workflow
from tests.probe.workflows import a, c


@pytest.fixture
def make_run(register_workflow) -> Callable[..., WorkflowRun]:  # type: ignore[no-untyped-def]
    """Register ``tests.two_steps`` (probe step a, then c) and make its runs.

    ``make_run(a_status, c_status, subject="p-1", **c_fields)`` writes a running run with
    its two step rows as given, as the moment a test starts from left them.
    """
    register_workflow(Workflow("tests.two_steps", subject_type="parcel", stages=[a, c]))

    def make(a_status: str, c_status: str, subject: str = "p-1", **c_fields) -> WorkflowRun:  # type: ignore[no-untyped-def]
        run = WorkflowRun.objects.create(
            workflow="tests.two_steps",
            subject_type="parcel",
            subject_id=subject,
            status=WorkflowRun.Status.RUNNING,
        )
        StepRun.objects.create(
            run=run, name=a.name, task_name=a.task_name, stage=0, status=a_status
        )
        StepRun.objects.create(
            run=run, name=c.name, task_name=c.task_name, stage=1, status=c_status, **c_fields
        )
        return run

    return make
