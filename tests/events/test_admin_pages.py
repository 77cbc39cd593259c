"""Every admin page renders on realistic data; the event store stays append-only in the admin.

The data is made the way the product makes it: orders placed, dispatched and fulfilled
through the services, with the broker boundary left out (in these tests nothing commits,
so no after-commit publish runs).
"""

from types import SimpleNamespace

import pytest
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, SolarSchedule
from django_celery_results.models import GroupResult, TaskResult
from rest_framework.authtoken.models import Token

from events.admin import admin_url
from events.models import (
    DeadLetter,
    Delivery,
    Event,
    OutboxEvent,
    StepRun,
    WorkflowRun,
)
from events.services import delivery_run, event_emit, outbox_publish, relay
from events.services.delivery import deliveries_create
from events.workflows.engine import step_execute, workflow_compensate
from notifications.models import Notification
from orders.models import Order, Return, SalesDay
from orders.services import LineInput, order_cancel, order_place, return_request
from tests.factories import make_user

pytestmark = pytest.mark.django_db

MODELS = sorted(admin.site._registry, key=lambda model: model._meta.label)
FULFILLMENT_STEPS = [
    "reserve_stock",
    "charge_payment",
    "create_shipment",
    "send_confirmation",
    "complete_order",
]


def dispatch(event: Event) -> None:
    """Create the event's deliveries and run each one, like a worker would."""
    for event_id, name in deliveries_create([(event.id, event.type)]):
        delivery_run(event_id=event_id, subscriber=name, task_id=f"task-{name}")


def order_events(order: Order, event_type: str) -> Event:
    return Event.objects.get(aggregate_type="order", aggregate_id=str(order.pk), type=event_type)


def fulfillment_run(order: Order) -> WorkflowRun:
    return WorkflowRun.objects.get(workflow="orders.fulfillment", subject_id=str(order.pk))


@pytest.fixture
def world(customer, catalog, staff, monkeypatch):  # type: ignore[no-untyped-def]
    """A fulfilled order with a return, a cancelled order, a failed one and a dead letter."""
    monkeypatch.setattr(relay, "_publish", lambda event_id, subscriber: None)

    fulfilled, _ = order_place(
        customer=customer,
        lines=[LineInput("MUG-LOGO", 2), LineInput("CAP-NAVY", 1)],
        payment_token="tok_ok",
    )
    dispatch(order_events(fulfilled, "order.placed"))
    run = fulfillment_run(fulfilled)
    for name in FULFILLMENT_STEPS:
        assert step_execute(run_id=run.id, step_name=name, task_id=f"task-{name}").status == (
            StepRun.Status.SUCCEEDED
        )
    dispatch(order_events(fulfilled, "order.fulfilled"))  # notification and sales projection
    fulfilled.refresh_from_db()
    ret = return_request(order=fulfilled, reason="too small")
    return_run = WorkflowRun.objects.get(workflow="orders.returns", subject_id=str(ret.pk))

    cancelled, _ = order_place(
        customer=customer, lines=[LineInput("TEE-BLACK-M", 1)], payment_token="tok_ok"
    )
    order_cancel(order=cancelled)
    dispatch(order_events(cancelled, "order.cancelled"))

    declined, _ = order_place(
        customer=customer, lines=[LineInput("LIMITED-POSTER", 1)], payment_token="tok_decline"
    )
    dispatch(order_events(declined, "order.placed"))
    failed_run = fulfillment_run(declined)
    assert step_execute(run_id=failed_run.id, step_name="reserve_stock").status == "succeeded"
    assert step_execute(run_id=failed_run.id, step_name="charge_payment").status == "failed"
    workflow_compensate(run_id=failed_run.id)

    with transaction.atomic():
        poison = event_emit(type="probe.poison", aggregate_id="pages", payload={"n": 1})
    dispatch(poison)
    for _ in range(2):
        delivery_run(event_id=poison.id, subscriber="probe.poisoned")
    dead_letter = DeadLetter.objects.get()

    # Part of the outbox published, the rest pending.
    outbox_publish(event_ids=[order_events(fulfilled, "order.placed").id])

    # Rows of the other apps in the admin.
    Group.objects.create(name="operators").permissions.add(
        Permission.objects.get(codename="view_event")
    )
    Token.objects.create(user=staff)
    CrontabSchedule.objects.create(minute="0", hour="3")
    SolarSchedule.objects.create(event="sunrise", latitude="52.52", longitude="13.40")
    ClockedSchedule.objects.create(clocked_time=timezone.now())
    TaskResult.objects.create(
        task_id="task-reserve_stock", task_name="orders.reserve_stock", status="SUCCESS"
    )
    GroupResult.objects.create(group_id="group-1", result='{"ok": true}')

    return SimpleNamespace(
        fulfilled=fulfilled,
        cancelled=cancelled,
        declined=declined,
        run=run,
        return_run=return_run,
        failed_run=fulfillment_run(declined),
        ret=ret,
        dead_letter=dead_letter,
        poison=poison,
    )


def test_the_fixture_makes_the_rows_the_pages_are_checked_on(world):
    declined = Order.objects.get(pk=world.declined.pk)
    assert Order.objects.get(pk=world.fulfilled.pk).status == Order.Status.FULFILLED
    assert Order.objects.get(pk=world.cancelled.pk).status == Order.Status.CANCELLED
    assert (declined.status, declined.failure_reason) == ("failed", "payment_declined")
    assert world.failed_run.status == WorkflowRun.Status.FAILED
    assert world.return_run.status == WorkflowRun.Status.RUNNING
    assert world.dead_letter.status == DeadLetter.Status.OPEN
    assert Notification.objects.filter(order_id=world.fulfilled.pk).count() == 2
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
        "orders.GatewayCharge",
        "orders.SalesDay",
        "orders.Return",
        "notifications.Notification",
    } <= registered


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model._meta.label)
def test_every_admin_change_page_renders_for_each_row(world, superuser_client, model):
    rows = list(model._default_manager.all())
    assert rows, f"add a {model._meta.label} row to the world fixture"

    for row in rows:
        response = superuser_client.get(admin_url(model, "change", quote(row.pk)))

        assert response.status_code == 200, (model._meta.label, row.pk)
        assert response.context["original"] == row


def test_the_event_admin_has_no_add_page(world, superuser_client):
    response = superuser_client.get(admin_url(Event, "add"))

    assert response.status_code == 403


def test_the_event_change_page_is_read_only(world, superuser_client):
    event = order_events(world.fulfilled, "order.placed")

    response = superuser_client.get(admin_url(Event, "change", event.pk))

    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="_save"' not in content
    assert 'name="type"' not in content
    assert admin_url(Event, "delete", event.pk) not in content
    assert f"&quot;order_id&quot;: {world.fulfilled.pk}" in content  # the payload, read-only


def event_row(event: Event) -> dict:
    return Event.objects.filter(pk=event.pk).values().get()


def test_posting_to_an_event_change_page_changes_nothing(world, superuser_client):
    event = order_events(world.fulfilled, "order.placed")
    before = event_row(event)

    response = superuser_client.post(
        admin_url(Event, "change", event.pk),
        {
            "type": "order.tampered",
            "version": 9,
            "aggregate_type": "order",
            "aggregate_id": "999",
            "sequence": 7,
            "payload": "{}",
            "_save": "Save",
        },
    )

    assert response.status_code == 403
    assert event_row(event) == before


def test_posting_to_an_event_delete_page_deletes_nothing(world, superuser_client):
    event = order_events(world.fulfilled, "order.placed")
    before = event_row(event)

    get = superuser_client.get(admin_url(Event, "delete", event.pk))
    post = superuser_client.post(admin_url(Event, "delete", event.pk), {"post": "yes"})

    assert (get.status_code, post.status_code) == (403, 403)
    assert event_row(event) == before


def test_the_event_changelist_offers_no_bulk_delete_and_a_forged_one_deletes_nothing(
    world, superuser_client
):
    url = admin_url(Event, "changelist")
    count = Event.objects.count()

    page = superuser_client.get(url)
    forged = superuser_client.post(
        url,
        {"action": "delete_selected", "_selected_action": [str(e.pk) for e in Event.objects.all()]},
    )
    confirmed = superuser_client.post(
        url,
        {
            "action": "delete_selected",
            "_selected_action": [str(e.pk) for e in Event.objects.all()],
            "post": "yes",
        },
    )

    assert page.context["action_form"] is None
    assert forged.status_code == confirmed.status_code == 200
    assert Event.objects.count() == count


@pytest.fixture
def unprivileged_staff_client(db) -> Client:
    user = make_user("clerk")
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


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


def listed(response) -> set:  # type: ignore[no-untyped-def]
    assert response.status_code == 200
    return {row.pk for row in response.context["cl"].result_list}


def test_searching_events_by_correlation_id_lists_that_flow_only(world, superuser_client):
    placed = order_events(world.declined, "order.placed")
    flow = set(
        Event.objects.filter(correlation_id=placed.correlation_id).values_list("pk", flat=True)
    )
    assert len(flow) > 1  # the placing and what the run emitted after it

    response = superuser_client.get(
        admin_url(Event, "changelist"), {"q": str(placed.correlation_id)}
    )

    assert listed(response) == flow
    assert admin_url(Event, "change", placed.pk) in response.content.decode()


def test_searching_events_by_type_prefix_lists_the_matching_events(world, superuser_client):
    response = superuser_client.get(admin_url(Event, "changelist"), {"q": "order.canc"})

    assert listed(response) == {order_events(world.cancelled, "order.cancelled").pk}


def follow_filter(client: Client, model, title: str, choice: str):  # type: ignore[no-untyped-def]
    """Open the changelist, then the link of ``choice`` in its ``title`` filter sidebar."""
    url = admin_url(model, "changelist")
    cl = client.get(url).context["cl"]
    for spec in cl.filter_specs:
        if spec.title == title:
            links = {str(c["display"]): c["query_string"] for c in spec.choices(cl)}
            assert choice in links, links
            return client.get(url + links[choice])
    raise AssertionError(f"no {title!r} filter in {[spec.title for spec in cl.filter_specs]}")


def test_filtering_events_by_type_and_aggregate_type(world, superuser_client):
    by_type = follow_filter(superuser_client, Event, "type", "order.fulfilled")
    by_aggregate = follow_filter(superuser_client, Event, "aggregate type", "probe")

    assert listed(by_type) == {order_events(world.fulfilled, "order.fulfilled").pk}
    assert listed(by_aggregate) == {world.poison.pk}


def test_the_aggregate_link_of_an_event_lists_its_whole_stream(world, superuser_client):
    order = world.fulfilled
    placed = order_events(order, "order.placed")
    link = f"{admin_url(Event, 'changelist')}?aggregate_type=order&aggregate_id={order.pk}"
    page = superuser_client.get(admin_url(Event, "change", placed.pk)).content.decode()
    assert link.replace("&", "&amp;") in page

    response = superuser_client.get(link)

    stream = Event.objects.for_aggregate("order", str(order.pk))
    assert listed(response) == set(stream.values_list("pk", flat=True))
    assert list(stream.values_list("type", flat=True)) == [
        "order.placed",
        "stock.reserved",
        "payment.captured",
        "shipment.created",
        "order.fulfilled",
        "return.requested",
    ]


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
