"""The webhooks API: staff only, the secret shown once, 400s with field errors, tests and
redelivery."""

import pytest
from rest_framework.test import APIClient

from events.models import Event
from notifications.models import WebhookDelivery, WebhookSubscription
from notifications.services.webhook_sending import DELIVER_WEBHOOK
from notifications.services.webhooks import (
    DELIVERY_ON_ITS_WAY,
    EVENT_TYPE_UNKNOWN,
    SUBSCRIPTION_DISABLED,
    URL_INVALID,
)
from project.api import VALIDATION_FAILED
from tests.helpers.webhook_rows import emit, fan_out

pytestmark = pytest.mark.django_db

PUBLIC_HOSTS = {"shop.example.com": "93.184.215.14", "intranet.example.com": "10.0.0.5"}


@pytest.fixture(autouse=True)
def hosts(resolve) -> None:  # type: ignore[no-untyped-def]
    resolve(PUBLIC_HOSTS)


def create(client, **body):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/webhooks/", {"url": "https://shop.example.com/hooks", **body}, format="json"
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/webhooks/"),
        ("post", "/api/webhooks/"),
        ("get", "/api/webhooks/{sub}/"),
        ("patch", "/api/webhooks/{sub}/"),
        ("delete", "/api/webhooks/{sub}/"),
        ("get", "/api/webhooks/{sub}/deliveries/"),
        ("post", "/api/webhooks/{sub}/test/"),
        ("post", "/api/webhook-deliveries/{delivery}/redeliver/"),
    ],
)
def test_only_staff_may_use_the_webhooks_api(method, path, customer_client, staff_client):
    sub = WebhookSubscription.objects.create(url="https://shop.example.com/hooks")
    [delivery] = fan_out(emit())
    url = path.format(sub=sub.pk, delivery=delivery.pk)

    anonymous = getattr(APIClient(), method)(url, {}, format="json")
    customer = getattr(customer_client, method)(url, {}, format="json")

    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "not_authenticated"
    assert customer.status_code == 403
    assert customer.json()["code"] == "permission_denied"
    # Staff pass the permission check (an empty body may still be refused as invalid).
    assert getattr(staff_client, method)(url, {}, format="json").status_code not in (401, 403)


def test_the_secret_is_shown_in_the_creation_answer_only(staff_client):
    created = create(staff_client, event_types=["order.placed"], description="ERP", ordered=True)

    assert created.status_code == 201
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert body["secret"] == WebhookSubscription.objects.get().secret
    assert {k: body[k] for k in ("url", "event_types", "description", "ordered", "is_active")} == {
        "url": "https://shop.example.com/hooks",
        "event_types": ["order.placed"],
        "description": "ERP",
        "ordered": True,
        "is_active": True,
    }
    detail = staff_client.get(f"/api/webhooks/{body['id']}/").json()
    listed = staff_client.get("/api/webhooks/").json()["results"]
    patched = staff_client.patch(
        f"/api/webhooks/{body['id']}/", {"description": "ERP v2"}, format="json"
    ).json()
    for answer in (detail, listed[0], patched):
        assert "secret" not in answer
    assert patched["description"] == "ERP v2"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"url": "not a url"}, "url", URL_INVALID),
        ({"url": "ftp://shop.example.com/x"}, "url", URL_INVALID),
        (
            {"url": "http://intranet.example.com/hooks"},
            "url",
            "The host intranet.example.com resolves to 10.0.0.5, a private address: webhooks "
            "go to public addresses only.",
        ),
        (
            {"url": "http://169.254.169.254/latest/meta-data/"},
            "url",
            "The host 169.254.169.254 resolves to 169.254.169.254, a cloud metadata address: "
            "webhooks go to public addresses only.",
        ),
        (
            {"event_types": ["order.shiped"]},
            "event_types",
            EVENT_TYPE_UNKNOWN.format(name="order.shiped"),
        ),
        (
            {"event_types": "order.placed"},
            "event_types",
            'Expected a list of items but got type "str".',
        ),
        ({"url": ""}, "url", "This field may not be blank."),
    ],
)
def test_bad_input_answers_400_with_field_errors_and_creates_nothing(
    staff_client, body, field, message
):
    response = create(staff_client, **body)

    assert response.status_code == 400
    assert response.json()["detail"] == VALIDATION_FAILED
    assert response.json()["errors"] == {field: [message]}
    assert not WebhookSubscription.objects.exists()


def test_a_change_is_checked_like_a_creation(staff_client):
    sub = WebhookSubscription.objects.create(url="https://shop.example.com/hooks")

    response = staff_client.patch(
        f"/api/webhooks/{sub.pk}/", {"url": "http://intranet.example.com/"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["url"]
    sub.refresh_from_db()
    assert sub.url == "https://shop.example.com/hooks"


def test_patching_is_active_disables_and_enables(staff_client):
    sub = WebhookSubscription.objects.create(url="https://shop.example.com/hooks")

    off = staff_client.patch(f"/api/webhooks/{sub.pk}/", {"is_active": False}, format="json")
    on = staff_client.patch(f"/api/webhooks/{sub.pk}/", {"is_active": True}, format="json")

    assert (off.json()["is_active"], off.json()["disabled_reason"]) == (False, "disabled by admin")
    assert (on.json()["is_active"], on.json()["disabled_reason"]) == (True, "")


def test_deleting_a_subscription_deletes_its_deliveries(staff_client):
    sub = WebhookSubscription.objects.create(url="https://shop.example.com/hooks")
    fan_out(emit())

    assert staff_client.delete(f"/api/webhooks/{sub.pk}/").status_code == 204
    assert not WebhookDelivery.objects.exists()
    assert Event.objects.exists()


def test_deliveries_are_listed_with_their_attempts(staff_client):
    sub = WebhookSubscription.objects.create(url="https://shop.example.com/hooks")
    [delivery] = fan_out(event := emit())
    delivery.attempt_log.create(
        number=1,
        started_at=delivery.created_at,
        duration_ms=12,
        status_code=500,
        error="The receiver answered 500.",
    )

    response = staff_client.get(f"/api/webhooks/{sub.pk}/deliveries/")

    assert response.status_code == 200
    [listed] = response.json()["results"]
    assert (listed["id"], listed["webhook_id"], listed["event_type"]) == (
        delivery.pk,
        str(event.id),
        "probe.tick",
    )
    assert [(a["number"], a["status_code"], a["duration_ms"]) for a in listed["attempt_log"]] == [
        (1, 500, 12)
    ]
    assert (
        staff_client.get(f"/api/webhooks/{sub.pk}/deliveries/?status=succeeded").json()["results"]
        == []
    )


def test_a_test_delivery_is_queued_for_the_subscription(
    staff_client, broker, django_capture_on_commit_callbacks
):
    sub = WebhookSubscription.objects.create(url="https://shop.example.com/hooks")

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(f"/api/webhooks/{sub.pk}/test/")

    assert response.status_code == 202
    assert response.json()["event_type"] == "webhook.test"
    assert broker.of(DELIVER_WEBHOOK) == [{"delivery_id": str(response.json()["id"])}]


def test_a_test_of_a_disabled_subscription_is_a_conflict(staff_client):
    sub = WebhookSubscription.objects.create(url="https://shop.example.com/h", is_active=False)

    response = staff_client.post(f"/api/webhooks/{sub.pk}/test/")

    assert response.status_code == 409
    assert response.json() == {"detail": SUBSCRIPTION_DISABLED, "code": "conflict", "errors": {}}


def test_a_redelivery_is_queued_with_the_same_webhook_id(
    staff_client, broker, django_capture_on_commit_callbacks
):
    WebhookSubscription.objects.create(url="https://shop.example.com/hooks")
    [delivery] = fan_out(emit())
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="given_up")

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(f"/api/webhook-deliveries/{delivery.pk}/redeliver/")
    again = staff_client.post(f"/api/webhook-deliveries/{delivery.pk}/redeliver/")

    assert response.status_code == 202
    assert (response.json()["status"], response.json()["webhook_id"]) == (
        "pending",
        str(delivery.event_id),
    )
    assert broker.of(DELIVER_WEBHOOK) == [{"delivery_id": str(delivery.pk)}]
    assert again.status_code == 409
    assert again.json()["detail"] == DELIVERY_ON_ITS_WAY.format(status="pending")


def test_an_unknown_delivery_is_a_json_404(staff_client):
    response = staff_client.post("/api/webhook-deliveries/999/redeliver/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_webhook_endpoints_are_in_the_openapi_schema(staff_client):
    paths = staff_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]

    assert {
        "/api/webhooks/",
        "/api/webhooks/{id}/",
        "/api/webhooks/{id}/deliveries/",
        "/api/webhooks/{id}/test/",
        "/api/webhook-deliveries/{id}/redeliver/",
    } <= set(paths)
    created = paths["/api/webhooks/"]["post"]["responses"]["201"]
    assert created["content"]["application/json"]["schema"]["$ref"].endswith(
        "WebhookSubscriptionCreated"
    )
