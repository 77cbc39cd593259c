"""Preferences: every channel on until switched off; customers choose among their kinds."""

import pytest

from notifications.models import CUSTOMER_KINDS, Notification
from notifications.services import (
    notification_channel_enabled,
    notification_preferences_get,
    notification_preferences_update,
    notification_send,
)
from notifications.services.preferences import UNKNOWN_CHANNEL, UNKNOWN_KIND
from project.errors import ApplicationError

pytestmark = pytest.mark.django_db

Kind = Notification.Kind
ON = {"email": True, "in_app": True}


def test_every_channel_is_on_until_switched_off(customer):
    assert notification_preferences_get(user=customer) == {kind: ON for kind in CUSTOMER_KINDS}


def test_staff_choose_among_every_kind(staff):
    assert set(notification_preferences_get(user=staff)) == set(Kind.values)


def test_switching_a_channel_off_leaves_the_others_as_they_were(customer, other_customer):
    preferences = notification_preferences_update(
        user=customer, changes={"order_fulfilled": {"email": False}}
    )

    assert preferences["order_fulfilled"] == {"email": False, "in_app": True}
    assert preferences["order_failed"] == ON
    assert not notification_channel_enabled(user=customer, kind="order_fulfilled", channel="email")
    assert notification_channel_enabled(
        user=other_customer, kind="order_fulfilled", channel="email"
    )

    again = notification_preferences_update(
        user=customer, changes={"order_fulfilled": {"email": True}}
    )
    assert again["order_fulfilled"] == ON


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"order_teleported": {"email": False}}, {"order_teleported": [UNKNOWN_KIND]}),
        ({"order_failed": {"sms": False}}, {"order_failed": {"sms": [UNKNOWN_CHANNEL]}}),
    ],
)
def test_an_unknown_kind_or_channel_changes_nothing(customer, changes, errors):
    with pytest.raises(ApplicationError) as raised:
        notification_preferences_update(
            user=customer, changes={"order_cancelled": {"email": False}, **changes}
        )

    assert raised.value.extra == errors
    assert notification_preferences_get(user=customer)["order_cancelled"] == ON


def test_a_switched_off_in_app_message_is_recorded_but_not_shown(customer):
    notification_preferences_update(user=customer, changes={"order_cancelled": {"in_app": False}})

    message = notification_send(
        recipient=customer, kind=Kind.ORDER_CANCELLED, context={"order_id": 1}, order_id=1
    )

    assert message.status == "skipped"
    assert customer.notifications.count() == 1
