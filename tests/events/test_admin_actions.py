"""Operator actions in the admin, run through the changelist like a browser does.

Each action calls a service; these tests check what it did to the database and what the
operator was told. The broker boundary is stubbed where an action publishes right away
(the outbox); everything else a service sends goes out after commit, which these tests,
inside one transaction, never reach unless they say so.
"""

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Permission
from django.db import transaction
from django.test import Client

import events.tasks
from events import subscriptions
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
from events.workflows import workflow_start
from events.workflows.engine import step_execute, workflow_compensate
from orders.models import GatewayCharge, Order, Payment, Product
from orders.services import LineInput, order_place
from tests.factories import make_user
from tests.probe.models import Record, Switch

pytestmark = pytest.mark.django_db

S = StepRun.Status
FULFILLMENT = "orders.fulfillment"


# --- Making the data, the way the product makes it ---------------------------------------


def event_types(order: Order) -> list[str]:
    return list(Event.objects.for_aggregate("order", str(order.pk)).values_list("type", flat=True))


def place(customer, *, token: str = "tok_ok", quantity: int = 2) -> Order:  # type: ignore[no-untyped-def]
    order, _ = order_place(
        customer=customer, lines=[LineInput("MUG-LOGO", quantity)], payment_token=token
    )
    return order


def start_fulfillment(order: Order) -> WorkflowRun:
    """Dispatch ``order.placed`` and run its deliveries: the fulfillment run starts."""
    placed = Event.objects.get(aggregate_id=str(order.pk), type="order.placed")
    for event_id, name in deliveries_create([(placed.id, placed.type)]):
        delivery_run(event_id=event_id, subscriber=name)
    return WorkflowRun.objects.get(workflow=FULFILLMENT, subject_id=str(order.pk))


def run_steps(run: WorkflowRun, *names: str) -> None:
    for name in names:
        step_execute(run_id=run.id, step_name=name, task_id=f"task-{name}")


def steps(run: WorkflowRun) -> dict[str, str]:
    return dict(run.steps.values_list("name", "status"))


def stock() -> int:
    return Product.objects.get(sku="MUG-LOGO").stock


def dead_letter(aggregate_id: str = "admin") -> DeadLetter:
    """A ``probe.poison`` event whose subscriber failed all its attempts.

    One per aggregate: a later event of the same aggregate would wait behind a dead one.
    """
    with transaction.atomic():
        event = event_emit(type="probe.poison", aggregate_id=aggregate_id, payload={"n": 1})
    for _ in range(subscriptions.get("probe.poisoned").max_attempts):
        delivery_run(event_id=event.id, subscriber="probe.poisoned")
    return DeadLetter.objects.get(delivery__event=event)


def probe_run(subject_id: str, *, fail: bool) -> WorkflowRun:
    """A ``probe.retryable`` run (plain, b, e), failed at b or succeeded."""
    run = workflow_start(workflow="probe.retryable", subject_id=subject_id, input={"b_fatal": fail})
    run_steps(run, "plain", "b")
    if fail:
        workflow_compensate(run_id=run.id)
    else:
        run_steps(run, "e")
    run.refresh_from_db()
    assert run.status == (WorkflowRun.Status.FAILED if fail else WorkflowRun.Status.SUCCEEDED)
    return run


def row(obj) -> dict:  # type: ignore[no-untyped-def]
    return type(obj).objects.filter(pk=obj.pk).values().get()


# --- Running an action -------------------------------------------------------------------


def act(client: Client, model, action: str, objects: list):  # type: ignore[no-untyped-def]
    return client.post(
        admin_url(model, "changelist"),
        {"action": action, "_selected_action": [str(obj.pk) for obj in objects]},
        follow=True,
    )


def shown(response) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200
    return [(message.level_tag, message.message) for message in response.context["messages"]]


def offered(response) -> set[str]:  # type: ignore[no-untyped-def]
    """The actions in the changelist's action menu."""
    assert response.status_code == 200
    form = response.context["action_form"]
    return set() if form is None else {name for name, _ in form.fields["action"].choices if name}


@pytest.fixture
def broker(monkeypatch):  # type: ignore[no-untyped-def]
    """Records each published message; refuses them all while ``broker.down`` is set."""
    broker = SimpleNamespace(sent=[], down=False)

    def publish(event_id, subscriber):  # type: ignore[no-untyped-def]
        if broker.down:
            raise ConnectionRefusedError("broker down")
        broker.sent.append((event_id, subscriber))

    monkeypatch.setattr(relay, "_publish", publish)
    return broker


@pytest.fixture
def sent_deliveries(monkeypatch) -> list[dict]:
    """``events.deliver`` messages sent after commit (dead-letter replays)."""
    sent: list[dict] = []
    monkeypatch.setattr(
        events.tasks, "deliver", SimpleNamespace(delay=lambda **kw: sent.append(kw))
    )
    return sent


# --- Dead letters ------------------------------------------------------------------------


def test_replaying_a_dead_letter_reopens_its_delivery_and_sends_it_again(
    superuser_client, sent_deliveries, django_capture_on_commit_callbacks
):
    letter = dead_letter()
    assert letter.delivery.status == Delivery.Status.DEAD

    with django_capture_on_commit_callbacks(execute=True):
        response = act(superuser_client, DeadLetter, "replay", [letter])

    assert shown(response) == [("success", "Replayed 1 dead letter(s).")]
    letter.refresh_from_db()
    assert (letter.status, letter.resolved_by) == (DeadLetter.Status.REPLAYED, "admin")
    assert letter.resolved_at is not None
    delivery = Delivery.objects.get(pk=letter.delivery_id)
    assert (delivery.status, delivery.attempts) == (Delivery.Status.PENDING, 0)
    assert sent_deliveries == [{"event_id": str(delivery.event_id), "subscriber": "probe.poisoned"}]


def test_replaying_a_replayed_dead_letter_is_reported_and_changes_nothing(
    superuser_client, sent_deliveries, django_capture_on_commit_callbacks
):
    letter = dead_letter()
    with django_capture_on_commit_callbacks(execute=True):
        act(superuser_client, DeadLetter, "replay", [letter])
    # The replayed delivery failed once more in the meantime.
    delivery_run(event_id=letter.delivery.event_id, subscriber="probe.poisoned")
    before, delivery_before = row(letter), row(letter.delivery)

    with django_capture_on_commit_callbacks(execute=True):
        response = act(superuser_client, DeadLetter, "replay", [letter])

    assert shown(response) == [("error", f"1 failed: Dead letter {letter.pk} is already replayed.")]
    assert row(letter) == before
    assert row(letter.delivery) == delivery_before
    assert delivery_before["status"] == Delivery.Status.FAILED
    assert len(sent_deliveries) == 1  # only the first replay sent anything


def test_replaying_an_open_and_a_replayed_dead_letter_reports_both(
    superuser_client, sent_deliveries
):
    replayed, still_open = dead_letter("first"), dead_letter("second")
    act(superuser_client, DeadLetter, "replay", [replayed])

    response = act(superuser_client, DeadLetter, "replay", [replayed, still_open])

    assert shown(response) == [
        ("success", "Replayed 1 dead letter(s)."),
        ("error", f"1 failed: Dead letter {replayed.pk} is already replayed."),
    ]
    assert DeadLetter.objects.get(pk=still_open.pk).status == DeadLetter.Status.REPLAYED


def test_discarding_a_dead_letter_discards_its_delivery_for_good(superuser_client, sent_deliveries):
    letter = dead_letter()

    response = act(superuser_client, DeadLetter, "discard", [letter])

    assert shown(response) == [("success", "Discarded 1 dead letter(s).")]
    letter.refresh_from_db()
    assert (letter.status, letter.resolved_by) == (DeadLetter.Status.DISCARDED, "admin")
    assert letter.resolved_at is not None
    delivery = Delivery.objects.get(pk=letter.delivery_id)
    assert delivery.status == Delivery.Status.DISCARDED
    # A late redelivery does not run the subscriber again.
    assert delivery_run(event_id=delivery.event_id, subscriber=delivery.subscriber).status == (
        "duplicate"
    )


def test_a_discarded_dead_letter_cannot_be_replayed(superuser_client, sent_deliveries):
    letter = dead_letter()
    act(superuser_client, DeadLetter, "discard", [letter])
    before = row(letter)

    response = act(superuser_client, DeadLetter, "replay", [letter])

    assert shown(response) == [
        ("error", f"1 failed: Dead letter {letter.pk} is already discarded.")
    ]
    assert row(letter) == before
    assert Delivery.objects.get(pk=letter.delivery_id).status == Delivery.Status.DISCARDED
    assert sent_deliveries == []


# --- Workflow runs: retry ----------------------------------------------------------------


def test_retrying_a_failed_run_requeues_it_from_its_failed_step(superuser_client):
    run = probe_run("retry-me", fail=True)
    assert steps(run) == {"plain": S.SUCCEEDED, "b": S.FAILED, "e": S.SKIPPED}
    assert (run.error, run.failure_reason) == ("b: StepFailed: b refuses for good", "b_refused")

    response = act(superuser_client, WorkflowRun, "retry", [run])

    assert shown(response) == [("success", "Retried 1 run(s).")]
    run.refresh_from_db()
    assert run.status == WorkflowRun.Status.RUNNING
    assert (run.error, run.failure_reason, run.finished_at) == ("", "", None)
    assert steps(run) == {"plain": S.SUCCEEDED, "b": S.QUEUED, "e": S.PENDING}
    b = run.steps.get(name="b")
    assert (b.attempts, b.error, b.traceback, b.queued_at is not None) == (0, "", "", True)

    # The engine goes on from there; the step still in effect does not run again.
    Switch.objects.create(name="b-healed", on=True)
    run_steps(run, "b", "e")
    run.refresh_from_db()
    assert run.status == WorkflowRun.Status.SUCCEEDED
    handled = Record.objects.filter(aggregate_id="retry-me").order_by("id")
    assert list(handled.values_list("subscriber", flat=True)) == ["plain", "b", "e"]


def test_retrying_a_failed_fulfillment_reopens_its_order(superuser_client, customer, catalog):
    order = place(customer, token="tok_decline")
    run = start_fulfillment(order)
    run_steps(run, "reserve_stock", "charge_payment")
    workflow_compensate(run_id=run.id)
    order.refresh_from_db()
    assert (order.status, order.failure_reason) == ("failed", "payment_declined")

    response = act(superuser_client, WorkflowRun, "retry", [run])

    assert shown(response) == [("success", "Retried 1 run(s).")]
    run.refresh_from_db()
    assert run.status == WorkflowRun.Status.RUNNING
    # Nothing was still in effect (the reservation was compensated): it starts over.
    assert steps(run) == {
        "reserve_stock": S.QUEUED,
        "charge_payment": S.PENDING,
        "create_shipment": S.PENDING,
        "send_confirmation": S.PENDING,
        "complete_order": S.PENDING,
    }
    order.refresh_from_db()
    assert (order.status, order.failure_reason) == ("pending", "")
    assert event_types(order)[-1] == "order.reopened"


def test_retrying_a_succeeded_run_is_reported_and_changes_nothing(superuser_client):
    run = probe_run("done", fail=False)
    before, steps_before = row(run), steps(run)

    response = act(superuser_client, WorkflowRun, "retry", [run])

    assert shown(response) == [
        (
            "error",
            f"1 failed: {run}: Only a failed run can be retried; this one is succeeded.",
        )
    ]
    assert row(run) == before
    assert steps(run) == steps_before


# --- Workflow runs: cancel ---------------------------------------------------------------


def test_cancelling_a_running_fulfillment_undoes_its_steps_and_cancels_the_order(
    superuser_client, customer, catalog
):
    initial = stock()
    order = place(customer, quantity=2)
    run = start_fulfillment(order)
    run_steps(run, "reserve_stock")
    assert (stock(), Order.objects.get(pk=order.pk).status) == (initial - 2, "reserved")

    response = act(superuser_client, WorkflowRun, "cancel", [run])

    assert shown(response) == [("success", "Cancelled 1 run(s).")]
    run.refresh_from_db()
    assert (run.status, run.failure_reason) == ("cancelled", "operator_request")
    assert run.finished_at is not None
    assert steps(run) == {
        "reserve_stock": S.COMPENSATED,
        "charge_payment": S.SKIPPED,
        "create_shipment": S.SKIPPED,
        "send_confirmation": S.SKIPPED,
        "complete_order": S.SKIPPED,
    }
    assert stock() == initial
    assert Order.objects.get(pk=order.pk).status == Order.Status.CANCELLED
    assert event_types(order) == [
        "order.placed",
        "stock.reserved",
        "stock.released",
        "order.cancelled",
    ]
    assert Event.objects.get(type="order.cancelled").payload["reason"] == "operator_request"


def test_cancelling_finished_runs_is_reported_and_changes_nothing(superuser_client):
    failed, succeeded = probe_run("failed", fail=True), probe_run("succeeded", fail=False)
    before = [row(failed), row(succeeded)]
    steps_before = [steps(failed), steps(succeeded)]

    response = act(superuser_client, WorkflowRun, "cancel", [failed, succeeded])

    [(level, message)] = shown(response)
    assert level == "error"
    assert message.startswith("2 failed: ")
    assert f"{failed}: already failed" in message
    assert f"{succeeded}: already succeeded" in message
    assert [row(failed), row(succeeded)] == before
    assert [steps(failed), steps(succeeded)] == steps_before
    assert not Record.objects.filter(subscriber__startswith="undo-").exists()


def test_cancelling_the_run_of_a_shipped_order_is_refused_and_undoes_nothing(
    superuser_client, customer, catalog
):
    order = place(customer, quantity=2)
    run = start_fulfillment(order)
    run_steps(run, "reserve_stock", "charge_payment", "create_shipment")
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    before, steps_before, events_before = row(run), steps(run), event_types(order)
    stock_before = stock()

    response = act(superuser_client, WorkflowRun, "cancel", [run])

    assert shown(response) == [
        (
            "error",
            f"1 failed: {run}: An order can be cancelled only while pending, reserved or "
            "paid; this one is shipped.",
        )
    ]
    assert row(run) == before
    assert steps(run) == steps_before
    assert event_types(order) == events_before
    assert stock() == stock_before
    payment = Payment.objects.get(order=order)
    assert payment.status == Payment.Status.CAPTURED
    assert GatewayCharge.objects.get(charge_id=payment.charge_id).status == "captured"
    assert Order.objects.get(pk=order.pk).status == Order.Status.SHIPPED


# --- Outbox ------------------------------------------------------------------------------


def test_publishing_pending_outbox_rows_marks_them_published_and_skips_published_ones(
    superuser_client, customer, catalog, broker
):
    published_order, pending_order = place(customer), place(customer)
    already = OutboxEvent.objects.get(event__aggregate_id=str(published_order.pk))
    pending = OutboxEvent.objects.get(event__aggregate_id=str(pending_order.pk))
    assert outbox_publish(event_ids=[already.event_id]) == 1
    already_before = row(already)
    broker.sent.clear()

    response = act(superuser_client, OutboxEvent, "publish", [already, pending])

    assert shown(response) == [("success", "Published 1 of 1 pending row(s).")]
    pending.refresh_from_db()
    assert pending.published_at is not None
    assert (pending.attempts, pending.last_error) == (1, "")
    subscribers = {sub.name for sub in subscriptions.for_event_type("order.placed")}
    assert subscribers
    assert sorted(broker.sent) == sorted((pending.event_id, name) for name in subscribers)
    assert (
        set(Delivery.objects.filter(event_id=pending.event_id).values_list("subscriber", flat=True))
        == subscribers
    )
    assert row(already) == already_before

    response = act(superuser_client, OutboxEvent, "publish", [already])
    assert shown(response) == [("warning", "None of the selected rows is pending.")]


def test_publishing_while_the_broker_is_down_is_reported_and_leaves_the_row_pending(
    superuser_client, customer, catalog, broker
):
    order = place(customer)
    pending = OutboxEvent.objects.get(event__aggregate_id=str(order.pk))
    broker.down = True

    response = act(superuser_client, OutboxEvent, "publish", [pending])

    assert shown(response) == [
        ("error", "1 row(s) still pending: the broker refused them (see last error)."),
    ]
    pending.refresh_from_db()
    assert pending.published_at is None
    assert (pending.attempts, pending.last_error) == (
        1,
        "ConnectionRefusedError: broker down",
    )


# --- Orders ------------------------------------------------------------------------------


def test_cancelling_a_pending_and_a_reserved_order_cancels_both(
    superuser_client, customer, catalog
):
    initial = stock()
    pending = place(customer, quantity=1)
    reserved = place(customer, quantity=2)
    run = start_fulfillment(reserved)
    run_steps(run, "reserve_stock")
    assert stock() == initial - 2  # only the reserved order took units off stock

    response = act(superuser_client, Order, "cancel", [pending, reserved])

    assert shown(response) == [("success", "Cancelled 2 order(s).")]
    assert Order.objects.get(pk=pending.pk).status == Order.Status.CANCELLED
    assert Order.objects.get(pk=reserved.pk).status == Order.Status.CANCELLED
    assert event_types(pending) == ["order.placed", "order.cancelled"]
    assert event_types(reserved) == [
        "order.placed",
        "stock.reserved",
        "stock.released",
        "order.cancelled",
    ]
    assert stock() == initial
    run.refresh_from_db()
    assert (run.status, run.failure_reason) == ("cancelled", "operator_request")
    reasons = Event.objects.filter(type="order.cancelled").values_list("payload__reason", flat=True)
    assert list(reasons) == ["operator_request", "operator_request"]


def test_cancelling_a_fulfilled_order_is_reported_and_changes_nothing(
    superuser_client, customer, catalog
):
    order = place(customer)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.FULFILLED)

    response = act(superuser_client, Order, "cancel", [order])

    assert shown(response) == [
        (
            "error",
            f"1 failed: order {order.pk}: An order can be cancelled only while pending, "
            "reserved or paid; this one is fulfilled.",
        )
    ]
    assert Order.objects.get(pk=order.pk).status == Order.Status.FULFILLED
    assert event_types(order) == ["order.placed"]


# --- Who may run them --------------------------------------------------------------------

ACTIONS = {
    DeadLetter: {"replay", "discard"},
    WorkflowRun: {"retry", "cancel"},
    OutboxEvent: {"publish"},
    Order: {"cancel"},
}


@pytest.fixture
def targets(customer, catalog, broker) -> dict:
    """One row per admin with actions, in a state each of its actions would change."""
    order = place(customer)
    return {
        DeadLetter: dead_letter(),
        WorkflowRun: probe_run("target", fail=True),
        OutboxEvent: OutboxEvent.objects.get(event__aggregate_id=str(order.pk)),
        Order: order,
    }


def staff_client(*codenames: str) -> Client:
    user = make_user("clerk")
    user.is_staff = True
    user.save()
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("model", "action"),
    [(model, action) for model, names in ACTIONS.items() for action in sorted(names)],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_a_staff_user_who_may_only_view_is_offered_no_action_and_cannot_run_one(
    targets, broker, model, action
):
    client = staff_client(*(f"view_{m._meta.model_name}" for m in ACTIONS))
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
    client = staff_client(f"view_{opts.model_name}", f"change_{opts.model_name}")

    assert offered(client.get(admin_url(model, "changelist"))) == ACTIONS[model]


def test_a_staff_user_with_the_change_permission_can_replay_a_dead_letter(sent_deliveries):
    letter = dead_letter()
    client = staff_client("change_deadletter")

    response = act(client, DeadLetter, "replay", [letter])

    assert shown(response) == [("success", "Replayed 1 dead letter(s).")]
    letter.refresh_from_db()
    assert (letter.status, letter.resolved_by) == (DeadLetter.Status.REPLAYED, "clerk")
    assert Delivery.objects.get(pk=letter.delivery_id).status == Delivery.Status.PENDING
