"""Workflow runs in the admin: searched, filtered, and their progress on the changelist.

The rows are the ``world`` fixture's (tests/events/admin/conftest.py).
"""

import pytest

from events.admin import admin_url
from events.models import WorkflowRun
from orders.models import Order
from tests.helpers.admin import follow_filter, listed
from tests.helpers.fulfillment import FULFILLMENT_STEPS

pytestmark = pytest.mark.django_db


def test_searching_workflow_runs_by_error_lists_the_failed_run(world, superuser_client):
    assert "declined" in world.failed_run.error.lower()

    response = superuser_client.get(admin_url(WorkflowRun, "changelist"), {"q": "declined"})

    assert listed(response) == {world.failed_run.pk}
    assert admin_url(WorkflowRun, "change", world.failed_run.pk) in response.content.decode()


def test_searching_workflow_runs_by_id_lists_that_run(world, superuser_client):
    response = superuser_client.get(
        admin_url(WorkflowRun, "changelist"), {"q": str(world.return_run.pk)}
    )

    assert listed(response) == {world.return_run.pk}


def test_filtering_workflow_runs_by_status_and_workflow(world, superuser_client):
    failed = follow_filter(superuser_client, WorkflowRun, "status", "Failed")
    succeeded = follow_filter(superuser_client, WorkflowRun, "status", "Succeeded")
    returns = follow_filter(superuser_client, WorkflowRun, "workflow", "orders.returns")

    assert listed(failed) == {world.failed_run.pk}
    assert listed(succeeded) == {world.run.pk}
    assert listed(returns) == {world.return_run.pk}


def test_the_workflow_run_changelist_shows_step_progress(world, superuser_client):
    response = superuser_client.get(admin_url(WorkflowRun, "changelist"), {"status": "succeeded"})

    content = response.content.decode()
    assert f"{len(FULFILLMENT_STEPS)} / {len(FULFILLMENT_STEPS)}" in content
    assert admin_url(Order, "change", world.fulfilled.pk) in content  # the subject link
