"""Fixtures of the admin tests: the rows the pages and actions are checked on."""

import json
import uuid
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, SolarSchedule
from django_celery_results.models import GroupResult, TaskResult
from rest_framework.authtoken.models import Token

from events import dispatch
from events.bridges.checkpoint import bridge_pause
from events.bridges.inbound import InboundMessage, inbound_receive
from events.context import Cause, bound
from events.envelope import Envelope
from events.models import DeadLetter, InboundEvent, StepRun, WorkflowRun
from events.services import delivery_run, event_emit, outbox_publish
from events.workflows.engine import step_execute, workflow_compensate
from notifications.models import WebhookSubscription
from notifications.services import notification_preferences_update, webhook_deliveries_create
from orders.services import LineInput, order_cancel, order_place, return_request
from tests.helpers.fulfillment import (
    FULFILLMENT_STEPS,
    fulfillment_run,
    order_event,
    run_deliveries,
)


@pytest.fixture
def sent_deliveries(broker) -> list[dict]:  # type: ignore[no-untyped-def]
    """``events.deliver`` messages sent after commit (dead-letter replays), a live list."""
    return broker.of(dispatch.DELIVER)


@pytest.fixture
def world(customer, catalog, staff, broker):  # type: ignore[no-untyped-def]
    """A fulfilled order with a return, a cancelled order, a failed one and a dead letter.

    Made the way the product makes it: orders placed, dispatched and fulfilled through the
    services, with the broker boundary recorded (nothing commits, so no after-commit
    publish runs).
    """

    fulfilled, _ = order_place(
        customer=customer,
        lines=[LineInput("MUG-LOGO", 2), LineInput("CAP-NAVY", 1)],
        payment_token="tok_ok",
    )
    run_deliveries(order_event(fulfilled, "order.placed"))
    run = fulfillment_run(fulfilled)
    for name in FULFILLMENT_STEPS:
        assert step_execute(run_id=run.id, step_name=name, task_id=f"task-{name}").status == (
            StepRun.Status.SUCCEEDED
        )
    run_deliveries(order_event(fulfilled, "order.fulfilled"))  # notification and sales projection
    fulfilled.refresh_from_db()
    ret = return_request(order=fulfilled, reason="too small")
    return_run = WorkflowRun.objects.get(workflow="orders.returns", subject_id=str(ret.pk))

    cancelled, _ = order_place(
        customer=customer, lines=[LineInput("TEE-BLACK-M", 1)], payment_token="tok_ok"
    )
    request_id = uuid.uuid4()  # cancelled by a request, which is kept as a command
    with bound(
        Cause(
            correlation_id=request_id,
            causation_id=request_id,
            fixed=False,
            command=f"POST /api/orders/{cancelled.pk}/cancel/",
        )
    ):
        order_cancel(order=cancelled)
    run_deliveries(order_event(cancelled, "order.cancelled"))

    declined, _ = order_place(
        customer=customer, lines=[LineInput("LIMITED-POSTER", 1)], payment_token="tok_decline"
    )
    run_deliveries(order_event(declined, "order.placed"))
    failed_run = fulfillment_run(declined)
    assert step_execute(run_id=failed_run.id, step_name="reserve_stock").status == "succeeded"
    assert step_execute(run_id=failed_run.id, step_name="charge_payment").status == "failed"
    workflow_compensate(run_id=failed_run.id)

    with transaction.atomic():
        poison = event_emit(type="probe.poison", aggregate_id="pages", payload={"n": 1})
    run_deliveries(poison)
    for _ in range(2):
        delivery_run(event_id=poison.id, subscriber="probe.poisoned")
    dead_letter = DeadLetter.objects.get()

    # Part of the outbox published, the rest pending.
    outbox_publish(event_ids=[order_event(fulfilled, "order.placed").id])

    # Rows of the other apps in the admin.
    Group.objects.create(name="operators").permissions.add(
        Permission.objects.get(codename="view_event")
    )
    Token.objects.create(user=staff)
    notification_preferences_update(user=customer, changes={"order_refunded": {"email": False}})
    CrontabSchedule.objects.create(minute="0", hour="3")
    SolarSchedule.objects.create(event="sunrise", latitude="52.52", longitude="13.40")
    ClockedSchedule.objects.create(clocked_time=timezone.now())
    TaskResult.objects.create(
        task_id="task-reserve_stock", task_name="orders.reserve_stock", status="SUCCESS"
    )
    GroupResult.objects.create(group_id="group-1", result='{"ok": true}')
    WebhookSubscription.objects.create(url="https://93.184.215.14/hooks", description="ERP")
    with transaction.atomic():
        placed = Envelope.from_event(order_event(fulfilled, "order.placed"))
        [webhook] = webhook_deliveries_create(event=placed)
    webhook.attempt_log.create(
        number=1, started_at=timezone.now(), duration_ms=30, status_code=500, error="HTTP 500"
    )

    # The bridges: a paused one, an event taken in from Kafka, a message refused.
    bridge_pause(name="kafka")
    tick = {
        "specversion": "1.0",
        "id": "tick-1",
        "source": "/probe",
        "type": "probe.tick",
        "subject": "inbound",
        "data": {"n": 1},
    }
    for body in (json.dumps(tick).encode(), b"{not json"):
        inbound_receive(
            message=InboundMessage(
                transport="kafka", channel="warehouse", reference="0:1", body=body
            )
        )

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
        inbound=InboundEvent.objects.get(),
    )
