"""Subscriptions and deliveries: fan-out, ordered subscriptions, test events, redelivery."""

import pytest
from django.core.exceptions import ValidationError

from events import subscriptions
from events.models import Event
from notifications.models import Notification, WebhookDelivery, WebhookSubscription
from notifications.services import (
    staff_alert,
    webhook_delivery_redeliver,
    webhook_delivery_send,
    webhook_subscription_create,
    webhook_subscription_enable,
    webhook_subscription_update,
    webhook_test_send,
)
from notifications.services.webhook_sending import DELIVER_WEBHOOK
from notifications.services.webhooks import (
    DELIVERY_ON_ITS_WAY,
    DELIVERY_WAITING,
    EVENT_TYPE_UNKNOWN,
    SUBSCRIPTION_DISABLED,
)
from project.errors import Conflict
from tests.factories import make_user
from tests.helpers.webhook_rows import emit, fan_out

pytestmark = pytest.mark.django_db

Status = WebhookDelivery.Status


def statuses(*deliveries: WebhookDelivery) -> list[str]:
    return [WebhookDelivery.objects.get(pk=d.pk).status for d in deliveries]


def test_the_webhooks_subscriber_listens_to_every_event_type():
    sub = subscriptions.get("notifications.webhooks")

    assert sub.every_event
    assert sub in subscriptions.for_event_type("order.placed")
    assert sub in subscriptions.for_event_type("probe.tick")


def test_an_event_fans_out_to_each_active_subscription_that_wants_it_after_commit(
    subscribe, broker, django_capture_on_commit_callbacks
):
    every = subscribe()
    ticks = subscribe(event_types=["probe.tick"])
    subscribe(event_types=["order.placed"])
    subscribe(is_active=False)
    event = emit()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        deliveries = fan_out(event)
        assert broker.of(DELIVER_WEBHOOK) == []
    for callback in callbacks:
        callback()

    assert {d.subscription for d in deliveries} == {every, ticks}
    assert all(d.status == Status.PENDING for d in deliveries)
    assert sorted(m["delivery_id"] for m in broker.of(DELIVER_WEBHOOK)) == sorted(
        str(d.pk) for d in deliveries
    )


def test_an_event_fanned_out_twice_is_delivered_once(subscribe):
    subscribe()
    event = emit()

    assert len(fan_out(event)) == 1
    assert fan_out(event) == []
    assert WebhookDelivery.objects.count() == 1


def test_in_an_ordered_subscription_a_later_event_waits_for_the_earlier_one(
    webhook_settings, subscribe, receiver, broker, django_capture_on_commit_callbacks
):
    subscribe(ordered=True)
    unordered = subscribe()
    a1, a2, a3 = (fan_out(emit("a", n)) for n in (1, 2, 3))
    [b1] = [d for d in fan_out(emit("b", 1)) if d.subscription != unordered]
    first, second, third = (
        next(d for d in ds if d.subscription != unordered) for ds in (a1, a2, a3)
    )

    assert statuses(first, second, third, b1) == [
        Status.PENDING,
        Status.WAITING,
        Status.WAITING,
        Status.PENDING,
    ]
    assert {statuses(d)[0] for ds in (a1, a2, a3) for d in ds if d.subscription == unordered} == {
        Status.PENDING
    }
    with django_capture_on_commit_callbacks(execute=True):
        webhook_delivery_send(delivery_id=first.pk)

    assert statuses(first, second, third) == [Status.SUCCEEDED, Status.PENDING, Status.WAITING]
    assert broker.of(DELIVER_WEBHOOK) == [{"delivery_id": str(second.pk)}]


def test_a_delivery_given_up_releases_the_next_one_too(
    webhook_settings, subscribe, receiver, broker, django_capture_on_commit_callbacks
):
    subscribe(ordered=True)
    receiver.answer = lambda request: (500, 0)
    [first], [second] = fan_out(emit("a", 1)), fan_out(emit("a", 2))
    WebhookDelivery.objects.filter(pk=first.pk).update(attempts=2)  # its last attempt next

    with django_capture_on_commit_callbacks(execute=True):
        webhook_delivery_send(delivery_id=first.pk)

    assert statuses(first, second) == [Status.GIVEN_UP, Status.PENDING]
    assert broker.of(DELIVER_WEBHOOK) == [{"delivery_id": str(second.pk)}]


def test_a_test_event_goes_to_its_subscription_only(
    subscribe, staff, broker, django_capture_on_commit_callbacks
):
    sub, other = subscribe(), subscribe()

    with django_capture_on_commit_callbacks(execute=True):
        delivery = webhook_test_send(subscription=sub, requested_by="admin")

    event = Event.objects.get(pk=delivery.event_id)
    assert (event.type, event.aggregate_type, event.aggregate_id) == (
        "webhook.test",
        "webhook_subscription",
        str(sub.pk),
    )
    assert event.payload == {"subscription_id": sub.pk, "requested_by": "admin"}
    assert fan_out(event) == []  # the fan-out leaves it alone
    assert not other.deliveries.exists()
    assert broker.of(DELIVER_WEBHOOK) == [{"delivery_id": str(delivery.pk)}]


def test_a_redelivery_starts_a_new_round_with_the_same_event(
    webhook_settings, subscribe, receiver, broker, django_capture_on_commit_callbacks
):
    subscribe()
    [delivery] = fan_out(emit())
    webhook_delivery_send(delivery_id=delivery.pk)

    with django_capture_on_commit_callbacks(execute=True):
        again = webhook_delivery_redeliver(delivery=delivery)
    webhook_delivery_send(delivery_id=delivery.pk)

    assert (again.pk, again.event_id) == (delivery.pk, delivery.event_id)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.SUCCEEDED, 1)
    assert [a.number for a in delivery.attempt_log.all()] == [1, 2]
    assert [r.webhook_id for r in receiver.requests()] == [str(delivery.event_id)] * 2
    assert broker.of(DELIVER_WEBHOOK) == [{"delivery_id": str(delivery.pk)}]


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (Status.PENDING, DELIVERY_ON_ITS_WAY.format(status="pending")),
        (Status.SENDING, DELIVERY_ON_ITS_WAY.format(status="sending")),
        (Status.WAITING, DELIVERY_WAITING),
    ],
)
def test_a_delivery_on_its_way_is_not_redelivered(subscribe, status, message):
    subscribe()
    [delivery] = fan_out(emit())
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=status)

    with pytest.raises(Conflict) as refused:
        webhook_delivery_redeliver(delivery=delivery)

    assert refused.value.message == message


def test_nothing_is_sent_to_a_disabled_subscription(subscribe):
    sub = subscribe()
    [delivery] = fan_out(emit())
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=Status.SUCCEEDED)
    webhook_subscription_update(subscription=sub, is_active=False, by="admin")

    for attempt in (
        lambda: webhook_delivery_redeliver(delivery=delivery),
        lambda: webhook_test_send(subscription=sub),
    ):
        with pytest.raises(Conflict, match=SUBSCRIPTION_DISABLED):
            attempt()
    assert fan_out(emit("a", 2)) == []
    sub.refresh_from_db()
    assert sub.disabled_reason == "disabled by admin"


def test_enabling_a_subscription_clears_its_failure_record(subscribe):
    sub = subscribe()
    webhook_subscription_update(subscription=sub, is_active=False)
    WebhookSubscription.objects.filter(pk=sub.pk).update(consecutive_failures=4)
    sub.refresh_from_db()

    webhook_subscription_enable(subscription=sub)

    sub.refresh_from_db()
    assert sub.is_active
    assert (sub.consecutive_failures, sub.failing_since, sub.disabled_at, sub.disabled_reason) == (
        0,
        None,
        None,
        "",
    )


def test_a_subscription_needs_a_public_url_and_declared_event_types(resolve):
    resolve({"intranet.example.com": "192.168.0.10", "shop.example.com": "93.184.215.14"})

    with pytest.raises(ValidationError) as refused:
        webhook_subscription_create(
            url="http://intranet.example.com/hooks", event_types=["order.placed", "order.paied"]
        )

    assert set(refused.value.message_dict) == {"url", "event_types"}
    assert refused.value.message_dict["event_types"] == [
        EVENT_TYPE_UNKNOWN.format(name="order.paied")
    ]
    sub = webhook_subscription_create(url="https://shop.example.com/hooks", event_types=[])
    assert sub.secret.startswith("whsec_")


def test_a_staff_alert_reaches_every_active_staff_user_in_the_app():
    make_user("admin", staff=True)
    make_user("ops", staff=True)
    make_user("alice")
    gone = make_user("gone", staff=True)
    gone.is_active = False
    gone.save()

    staff_alert(
        kind=Notification.Kind.WEBHOOK_DISABLED,
        context={"subscription_id": 3, "url": "https://x.example", "reason": "it failed"},
    )

    in_app = Notification.objects.filter(channel=Notification.Channel.IN_APP)
    assert sorted(in_app.values_list("user__username", flat=True)) == ["admin", "ops"]
    assert {n.subject for n in in_app} == {"Webhook subscription 3 was disabled"}
