"""The preferences API: each user reads and changes their own; bad input is a 400 per field."""

import pytest

from notifications.api.preferences import STAFF_ALERTS
from notifications.models import CUSTOMER_KINDS, Notification, NotificationPreference
from notifications.services.preferences import UNKNOWN_CHANNEL, UNKNOWN_KIND
from project.api import VALIDATION_FAILED

pytestmark = pytest.mark.django_db

URL = "/api/notification-preferences/"
ON = {"email": True, "in_app": True}


def all_on() -> dict:
    return {kind: dict(ON) for kind in CUSTOMER_KINDS}


def test_an_anonymous_request_is_refused(client):
    response = client.get(URL)

    assert response.status_code == 401
    assert set(response.json()) == {"detail", "code", "errors"}


def test_a_customer_starts_with_every_channel_on(customer_client):
    response = customer_client.get(URL)

    assert response.status_code == 200
    assert response.json() == all_on()


def test_a_patch_switches_only_what_it_names_and_only_for_that_customer(
    customer_client, other_client
):
    response = customer_client.patch(URL, {"order_fulfilled": {"email": False}}, format="json")

    expected = all_on()
    expected["order_fulfilled"]["email"] = False
    assert (response.status_code, response.json()) == (200, expected)
    assert customer_client.get(URL).json() == expected
    assert other_client.get(URL).json() == all_on()


def test_a_put_sets_every_kind_and_channel(customer_client, customer):
    body = {kind: {"email": False, "in_app": kind != "order_failed"} for kind in CUSTOMER_KINDS}

    response = customer_client.put(URL, body, format="json")

    assert (response.status_code, response.json()) == (200, body)
    assert NotificationPreference.objects.filter(user=customer, enabled=False).count() == 6


def test_a_put_that_leaves_out_a_kind_or_a_channel_is_refused(customer_client):
    body = all_on()
    del body["order_refunded"]
    body["order_failed"] = {"email": False}

    response = customer_client.put(URL, body, format="json")

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"order_refunded", "order_failed"}
    assert set(errors["order_failed"]) == {"in_app"}
    assert not NotificationPreference.objects.exists()


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"order_teleported": {"email": False}}, {"order_teleported": [UNKNOWN_KIND]}),
        ({"order_failed": {"sms": False}}, {"order_failed": {"sms": [UNKNOWN_CHANNEL]}}),
        (
            {"order_failed": {"email": "maybe"}},
            {"order_failed": {"email": ["Must be a valid boolean."]}},
        ),
        (
            {"order_failed": "off"},
            {
                "order_failed": {
                    "non_field_errors": ["Invalid data. Expected a dictionary, but got str."]
                }
            },
        ),
    ],
)
def test_bad_input_is_a_400_that_names_the_field_and_changes_nothing(customer_client, body, errors):
    response = customer_client.patch(
        URL, {"order_cancelled": {"email": False}, **body}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["detail"] == VALIDATION_FAILED
    assert response.json()["errors"] == errors
    assert not NotificationPreference.objects.exists()


def test_a_customer_cannot_choose_channels_for_staff_alerts_but_staff_can(
    customer_client, staff_client, monkeypatch
):
    staff_kinds = set(Notification.Kind.values) - set(CUSTOMER_KINDS)
    if not staff_kinds:  # every kind is for customers: make one that is not
        monkeypatch.setattr(
            "notifications.services.preferences.CUSTOMER_KINDS", CUSTOMER_KINDS[:-1]
        )
        staff_kinds = {CUSTOMER_KINDS[-1]}
    kind = sorted(staff_kinds)[0]

    refused = customer_client.patch(URL, {kind: {"email": False}}, format="json")
    taken = staff_client.patch(URL, {kind: {"email": False}}, format="json")

    assert refused.status_code == 403
    assert refused.json()["detail"] == STAFF_ALERTS.format(kinds=kind)
    assert kind not in customer_client.get(URL).json()
    assert taken.status_code == 200
    assert taken.json()[kind] == {"email": False, "in_app": True}
