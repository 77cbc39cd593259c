"""The events command: what it refuses before it replays anything."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from events import subscriptions
from events.management.commands.events import AGGREGATE_NOT_TYPE_ID, UNKNOWN_NAME

pytestmark = pytest.mark.django_db

SUBSCRIBER = "orders.start_fulfillment"


def test_the_replay_command_rejects_an_unknown_subscriber_and_a_bad_aggregate():
    known = ", ".join(sub.name for sub in subscriptions.all_subscribers())

    with pytest.raises(CommandError) as unknown:
        call_command("events", "replay", "--subscriber", "nobody")
    with pytest.raises(CommandError) as not_type_id:
        call_command("events", "replay", "--subscriber", SUBSCRIBER, "--aggregate", "42")

    assert str(unknown.value) == UNKNOWN_NAME.format(
        error="Unknown subscriber: nobody", names=known
    )
    assert str(not_type_id.value) == AGGREGATE_NOT_TYPE_ID
