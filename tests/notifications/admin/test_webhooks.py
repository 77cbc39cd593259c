"""The webhook admin: its pages, adding a subscription, the filters and the actions."""

import pytest
from django.utils import timezone

from events.admin import admin_url
from notifications.models import WebhookDelivery, WebhookSubscription
from notifications.services.webhook_sending import DELIVER_WEBHOOK
from notifications.services.webhooks import DELIVERY_ON_ITS_WAY, SUBSCRIPTION_DISABLED
from tests.helpers.admin import act, follow_filter, listed, offered, shown
from tests.helpers.webhook_rows import emit, fan_out

pytestmark = pytest.mark.django_db

URL = "https://shop.example.com/hooks"


@pytest.fixture(autouse=True)
def hosts(resolve) -> None:  # type: ignore[no-untyped-def]
    resolve({"shop.example.com": "93.184.215.14", "intranet.example.com": "10.0.0.5"})


@pytest.fixture
def delivery() -> WebhookDelivery:
    WebhookSubscription.objects.create(url=URL, description="ERP")
    [delivery] = fan_out(emit())
    delivery.attempt_log.create(
        number=1,
        started_at=timezone.now(),
        duration_ms=40,
        status_code=500,
        error="The receiver answered 500.",
        response_excerpt="<b>down</b>",
    )
    return delivery


def test_every_webhook_page_renders(superuser_client, delivery):
    sub = delivery.subscription
    pages = [
        admin_url(WebhookSubscription, "changelist"),
        admin_url(WebhookSubscription, "add"),
        admin_url(WebhookSubscription, "change", sub.pk),
        admin_url(WebhookDelivery, "changelist"),
        admin_url(WebhookDelivery, "change", delivery.pk),
    ]
    for page in pages:
        assert superuser_client.get(page).status_code == 200, page
    detail = superuser_client.get(admin_url(WebhookDelivery, "change", delivery.pk)).content
    assert b"The receiver answered 500." in detail
    assert b"&lt;b&gt;down&lt;/b&gt;" in detail  # the receiver's answer, escaped
    assert str(delivery.event_id).encode() in detail
    assert (
        sub.secret.encode()
        not in superuser_client.get(admin_url(WebhookSubscription, "change", sub.pk)).content
    )


def test_adding_a_subscription_shows_its_secret_once(superuser_client):
    response = superuser_client.post(
        admin_url(WebhookSubscription, "add"),
        {"url": URL, "description": "ERP", "event_types": ["order.placed"], "is_active": "on"},
        follow=True,
    )

    sub = WebhookSubscription.objects.get()
    assert (sub.url, sub.event_types, sub.is_active) == (URL, ["order.placed"], True)
    assert any(sub.secret in text for _, text in shown(response))


def test_a_private_target_is_refused_in_the_form(superuser_client):
    response = superuser_client.post(
        admin_url(WebhookSubscription, "add"),
        {"url": "http://intranet.example.com/hooks", "is_active": "on"},
    )

    assert response.status_code == 200
    assert "a private address" in str(response.context["adminform"].form.errors["url"])
    assert not WebhookSubscription.objects.exists()


def test_the_failing_and_disabled_filters(superuser_client):
    healthy = WebhookSubscription.objects.create(url=URL)
    failing = WebhookSubscription.objects.create(url=URL, failing_since=timezone.now())
    disabled = WebhookSubscription.objects.create(url=URL, is_active=False)

    assert listed(follow_filter(superuser_client, WebhookSubscription, "failing", "Failing")) == {
        failing.pk
    }
    assert listed(follow_filter(superuser_client, WebhookSubscription, "disabled", "Disabled")) == {
        disabled.pk
    }
    assert listed(follow_filter(superuser_client, WebhookSubscription, "disabled", "Active")) == {
        healthy.pk,
        failing.pk,
    }


def test_the_test_action_sends_a_test_event_to_active_subscriptions_only(
    superuser_client, broker, django_capture_on_commit_callbacks
):
    active = WebhookSubscription.objects.create(url=URL)
    disabled = WebhookSubscription.objects.create(url=URL, is_active=False, description="old")

    with django_capture_on_commit_callbacks(execute=True):
        response = act(superuser_client, WebhookSubscription, "send_test", [active, disabled])

    assert shown(response) == [
        ("success", "Sent a test event to 1 subscription(s)."),
        ("error", f"1 failed: old: {SUBSCRIPTION_DISABLED}"),
    ]
    [delivery] = WebhookDelivery.objects.all()
    assert (delivery.subscription, delivery.event.type) == (active, "webhook.test")
    assert broker.of(DELIVER_WEBHOOK) == [{"delivery_id": str(delivery.pk)}]


def test_the_enable_action_clears_the_failure_record(superuser_client):
    sub = WebhookSubscription.objects.create(
        url=URL, is_active=False, consecutive_failures=10, disabled_reason="it failed"
    )

    response = act(superuser_client, WebhookSubscription, "enable", [sub])

    assert shown(response) == [("success", "Enabled 1 subscription(s).")]
    sub.refresh_from_db()
    assert (sub.is_active, sub.consecutive_failures, sub.disabled_reason) == (True, 0, "")


def test_the_redeliver_action_sends_again_what_is_not_on_its_way(
    superuser_client, delivery, broker, django_capture_on_commit_callbacks
):
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="given_up")
    [pending] = fan_out(emit("a", 2))

    with django_capture_on_commit_callbacks(execute=True):
        response = act(superuser_client, WebhookDelivery, "redeliver", [delivery, pending])

    assert shown(response) == [
        ("success", "Redelivering 1 delivery(ies)."),
        (
            "error",
            f"1 failed: delivery {pending.pk}: {DELIVERY_ON_ITS_WAY.format(status='pending')}",
        ),
    ]
    assert broker.of(DELIVER_WEBHOOK) == [{"delivery_id": str(delivery.pk)}]


def test_deliveries_are_read_only_and_redelivery_needs_the_permission_to_operate(
    superuser_client, delivery
):
    from tests.helpers.admin import clerk_client

    clerk = clerk_client("view_webhookdelivery")
    page = admin_url(WebhookDelivery, "changelist")

    assert "redeliver" in offered(superuser_client.get(page))
    assert "redeliver" not in offered(clerk.get(page))
    assert clerk.get(admin_url(WebhookDelivery, "change", delivery.pk)).status_code == 200
    assert (
        superuser_client.post(admin_url(WebhookDelivery, "delete", delivery.pk)).status_code == 403
    )
