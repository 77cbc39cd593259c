"""Every admin page renders on realistic data, and a staff user without permissions sees none.

The rows are the ``world`` fixture's (tests/events/admin/conftest.py).
"""

import pytest
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.test import Client
from django.urls import reverse

from events.admin import admin_url
from events.models import DeadLetter, Delivery, Event, OutboxEvent, WorkflowRun
from notifications.models import Notification
from orders.models import Order, Return, SalesDay
from tests.helpers.admin import clerk_client

pytestmark = pytest.mark.django_db

MODELS = sorted(admin.site._registry, key=lambda model: model._meta.label)


def test_the_fixture_makes_the_rows_the_pages_are_checked_on(world):
    declined = Order.objects.get(pk=world.declined.pk)
    assert Order.objects.get(pk=world.fulfilled.pk).status == Order.Status.FULFILLED
    assert Order.objects.get(pk=world.cancelled.pk).status == Order.Status.CANCELLED
    assert (declined.status, declined.failure_reason) == ("failed", "payment_declined")
    assert world.failed_run.status == WorkflowRun.Status.FAILED
    assert world.return_run.status == WorkflowRun.Status.RUNNING
    assert world.dead_letter.status == DeadLetter.Status.OPEN
    # Confirmed and shipped, each by email and in the app.
    assert Notification.objects.filter(order_id=world.fulfilled.pk).count() == 4
    assert SalesDay.objects.filter(sku="MUG-LOGO", units=2).exists()
    assert Return.objects.filter(pk=world.ret.pk).exists()
    assert OutboxEvent.objects.pending().exists()
    assert OutboxEvent.objects.filter(published_at__isnull=False).exists()
    assert Delivery.objects.filter(status=Delivery.Status.SUCCEEDED).exists()


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model._meta.label)
def test_every_admin_changelist_renders_and_searches_for_a_superuser(
    world, superuser_client, model
):
    url = admin_url(model, "changelist")

    response = superuser_client.get(url)

    assert response.status_code == 200
    assert response.context["cl"].result_count == model._default_manager.count()
    for term in ["1", "alice", "order.placed"]:  # numbers and text against every search field
        assert superuser_client.get(url, {"q": term}).status_code == 200, term


def test_the_console_registers_the_engine_and_domain_models():
    registered = {model._meta.label for model in admin.site._registry}

    assert {
        "events.Event",
        "events.AggregateStream",
        "events.OutboxEvent",
        "events.Delivery",
        "events.DeadLetter",
        "events.WorkflowRun",
        "events.StepRun",
        "orders.Product",
        "orders.Order",
        "orders.Payment",
        "orders.Shipment",
        "orders.SalesDay",
        "orders.Return",
        "notifications.Notification",
        "notifications.NotificationPreference",
    } <= registered


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model._meta.label)
def test_every_admin_change_page_renders_for_each_row(world, superuser_client, model):
    rows = list(model._default_manager.all())
    assert rows, f"add a {model._meta.label} row to the world fixture"

    for row in rows:
        response = superuser_client.get(admin_url(model, "change", quote(row.pk)))

        assert response.status_code == 200, (model._meta.label, row.pk)
        assert response.context["original"] == row


@pytest.fixture
def unprivileged_staff_client(db) -> Client:  # type: ignore[no-untyped-def]
    return clerk_client()


@pytest.mark.parametrize("model", [Event, DeadLetter, WorkflowRun, OutboxEvent, Order])
def test_a_staff_user_without_permissions_gets_403_on_a_changelist(
    world, unprivileged_staff_client, model
):
    response = unprivileged_staff_client.get(admin_url(model, "changelist"))

    assert response.status_code == 403


def test_a_staff_user_without_permissions_sees_no_model_on_the_admin_index(
    world, unprivileged_staff_client
):
    response = unprivileged_staff_client.get(reverse("admin:index"))

    assert response.status_code == 200
    assert response.context["app_list"] == []
