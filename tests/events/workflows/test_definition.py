"""Declaring workflows: a definition that cannot work fails at import; retry policies."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from events.workflows import RetryPolicy, StepCancelled, StepFailed, Workflow, parallel
from events.workflows.definition import (
    EMPTY_PARALLEL_GROUP,
    NO_STEPS,
    NOT_A_STEP,
    POINT_OF_NO_RETURN_ELSEWHERE,
    STEP_LISTED_TWICE,
)
from tests.helpers.definitions import make_step, workflow

NAME = "tests.workflow"


def test_a_well_formed_workflow_is_accepted():
    first, second, third = make_step("first"), make_step("second"), make_step("third")

    flow = workflow(first, parallel(second, third))

    assert [[s.name for s in stage.steps] for stage in flow.stages] == [
        ["first"],
        ["second", "third"],
    ]
    assert flow.step("third") is third


def undecorated(ctx: object) -> None:
    """A step function that was never made a step with @step."""


@pytest.mark.parametrize(
    ("stages", "message"),
    [
        ([], NO_STEPS.format(workflow=NAME)),
        (
            [make_step("same"), make_step("same")],
            STEP_LISTED_TWICE.format(workflow=NAME, step="same"),
        ),
        (
            [make_step("same"), parallel(make_step("other"), make_step("same"))],
            STEP_LISTED_TWICE.format(workflow=NAME, step="same"),
        ),
        ([make_step("first"), parallel()], EMPTY_PARALLEL_GROUP.format(workflow=NAME)),
        ([undecorated], NOT_A_STEP.format(workflow=NAME, stage=undecorated)),
        (
            [parallel(make_step("first"), "second")],
            NOT_A_STEP.format(workflow=NAME, stage="second"),
        ),
    ],
    ids=[
        "no stages",
        "duplicate step",
        "duplicate step in a parallel group",
        "empty parallel group",
        "function not decorated",
        "string in a parallel group",
    ],
)
def test_a_bad_workflow_definition_fails_fast(stages, message):
    with pytest.raises(ImproperlyConfigured) as refused:
        workflow(*stages)

    assert str(refused.value) == message


def test_a_point_of_no_return_outside_the_workflow_fails_fast():
    with pytest.raises(ImproperlyConfigured) as refused:
        Workflow(
            NAME,
            subject_type="thing",
            stages=[make_step("first")],
            point_of_no_return=make_step("elsewhere"),
        )

    assert str(refused.value) == POINT_OF_NO_RETURN_ELSEWHERE.format(
        workflow=NAME, step="elsewhere"
    )


class Transient(Exception):
    pass


POLICY = RetryPolicy(max_attempts=3, backoff=1, max_backoff=5, jitter=False, retry_on=(Transient,))


def test_a_listed_error_is_retried_until_the_attempts_run_out():
    assert POLICY.should_retry(Transient(), attempts=1)
    assert POLICY.should_retry(Transient(), attempts=2)
    assert not POLICY.should_retry(Transient(), attempts=3)


def test_an_unlisted_error_is_not_retried():
    assert not POLICY.should_retry(ValueError(), attempts=1)


@pytest.mark.parametrize("exc", [StepFailed("payment_declined"), StepCancelled("cancelled")])
def test_a_permanent_failure_is_never_retried_even_when_its_type_is_listed(exc):
    catch_all = RetryPolicy(max_attempts=10, retry_on=(Exception,))

    assert catch_all.should_retry(RuntimeError(), attempts=1)
    assert not catch_all.should_retry(exc, attempts=1)


def test_the_retry_delay_doubles_and_is_capped():
    assert [POLICY.delay(attempts) for attempts in range(1, 7)] == [1, 2, 4, 5, 5, 5]


def test_the_retry_delay_with_jitter_stays_between_half_and_all_of_the_ceiling():
    jittered = RetryPolicy(backoff=2, max_backoff=60, jitter=True)

    delays = [jittered.delay(3) for _ in range(200)]

    assert all(4 <= d <= 8 for d in delays)
    assert len(set(delays)) > 1
