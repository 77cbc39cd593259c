"""Who may run the console's actions: the model's change permission, never view alone.

``ReadOnlyAdmin`` grants the actions that call services through the "operate"
permission; every admin with actions is checked here, the domain's order admin too.
"""

import pytest
from django.db.models import Model

from events.admin import admin_url
from events.models import DeadLetter, Delivery, OutboxEvent, WorkflowRun
from orders.models import Order
from tests.helpers.admin import act, clerk_client, offered, row, shown
from tests.helpers.fulfillment import place
from tests.helpers.probe_rows import dead_letter, probe_run

pytestmark = pytest.mark.django_db

ACTIONS: dict[type[Model], set[str]] = {
    DeadLetter: {"replay", "discard"},
    WorkflowRun: {"retry", "retry_compensation", "cancel"},
    OutboxEvent: {"publish"},
    Order: {"cancel"},
}


@pytest.fixture
def targets(customer, catalog, broker) -> dict:  # type: ignore[no-untyped-def]
    """One row per admin with actions, in a state each of its actions would change."""
    order = place(customer)
    return {
        DeadLetter: dead_letter(),
        WorkflowRun: probe_run("target", fail=True),
        OutboxEvent: OutboxEvent.objects.get(event__aggregate_id=str(order.pk)),
        Order: order,
    }


@pytest.mark.parametrize(
    ("model", "action"),
    [(model, action) for model, names in ACTIONS.items() for action in sorted(names)],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_a_staff_user_who_may_only_view_is_offered_no_action_and_cannot_run_one(
    targets, broker, model, action
):
    client = clerk_client(*(f"view_{m._meta.model_name}" for m in ACTIONS))
    target = targets[model]
    before = row(target)

    page = client.get(admin_url(model, "changelist"))
    response = act(client, model, action, [target])

    assert offered(page) == set()
    assert target.pk in {obj.pk for obj in page.context["cl"].result_list}  # it can see it
    assert shown(response) == []
    assert row(target) == before
    assert broker.sent == []


@pytest.mark.parametrize("model", list(ACTIONS), ids=lambda model: model.__name__)
def test_the_superuser_is_offered_every_action(superuser_client, model):
    assert offered(superuser_client.get(admin_url(model, "changelist"))) == ACTIONS[model]


@pytest.mark.parametrize("model", list(ACTIONS), ids=lambda model: model.__name__)
def test_the_change_permission_is_what_offers_the_actions(db, model):
    opts = model._meta
    client = clerk_client(f"view_{opts.model_name}", f"change_{opts.model_name}")

    assert offered(client.get(admin_url(model, "changelist"))) == ACTIONS[model]


def test_a_staff_user_with_the_change_permission_can_replay_a_dead_letter(sent_deliveries):
    letter = dead_letter()
    client = clerk_client("change_deadletter")

    response = act(client, DeadLetter, "replay", [letter])

    assert shown(response) == [("success", "Replayed 1 dead letter(s).")]
    letter.refresh_from_db()
    assert (letter.status, letter.resolved_by) == (DeadLetter.Status.REPLAYED, "clerk")
    assert Delivery.objects.get(pk=letter.delivery_id).status == Delivery.Status.PENDING
