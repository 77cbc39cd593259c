"""The preferences' admin: staff see and change every user's choices."""

import pytest

from events.admin import admin_url
from notifications.models import NotificationPreference
from notifications.services import notification_preferences_update
from tests.helpers.admin import listed

pytestmark = pytest.mark.django_db


def test_staff_see_every_users_preferences(superuser_client, customer, other_customer):
    notification_preferences_update(user=customer, changes={"order_fulfilled": {"email": False}})
    notification_preferences_update(
        user=other_customer, changes={"order_failed": {"in_app": False}}
    )

    response = superuser_client.get(admin_url(NotificationPreference, "changelist"))

    assert listed(response) == set(NotificationPreference.objects.values_list("pk", flat=True))
    assert len(listed(response)) == 2


def test_staff_switch_a_channel_back_on_for_a_customer(superuser_client, customer):
    notification_preferences_update(user=customer, changes={"order_fulfilled": {"email": False}})
    preference = NotificationPreference.objects.get()

    response = superuser_client.post(
        admin_url(NotificationPreference, "change", preference.pk),
        {"user": customer.pk, "kind": "order_fulfilled", "channel": "email", "enabled": "on"},
    )

    assert response.status_code == 302, response.content
    preference.refresh_from_db()
    assert preference.enabled
