"""Finding workflows and step tasks by name: a name is taken once."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from events.workflows import register, step
from events.workflows.registry import REGISTERED_TWICE, STEP_TASK_DECLARED_TWICE, get_step
from tests.helpers.definitions import make_step, workflow


def test_registering_a_second_workflow_under_a_taken_name_is_refused():
    with pytest.raises(ImproperlyConfigured) as refused:
        register(workflow(make_step("first"), name="orders.fulfillment"))

    assert str(refused.value) == REGISTERED_TWICE.format(workflow="orders.fulfillment")


def test_declaring_a_step_task_name_twice_is_refused():
    existing = get_step("orders.reserve_stock")

    with pytest.raises(ImproperlyConfigured) as refused:
        step("orders.reserve_stock")(lambda ctx: None)

    assert str(refused.value) == STEP_TASK_DECLARED_TWICE.format(task_name="orders.reserve_stock")
    assert get_step("orders.reserve_stock") is existing
