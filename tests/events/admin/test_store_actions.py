"""The outbox admin's action: publish pending rows now, run through the changelist.

Publishing goes to the broker right away, so the recording ``broker`` stands in for it.
"""

import pytest

from events import subscriptions
from events.models import Delivery, OutboxEvent
from events.services import outbox_publish
from tests.helpers.admin import act, row, shown
from tests.helpers.fulfillment import place

pytestmark = pytest.mark.django_db


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
    broker.refuse.add("all")
    broker.error = ConnectionRefusedError("broker down")

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
