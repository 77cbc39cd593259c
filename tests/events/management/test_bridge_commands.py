"""The bridge and consume commands refuse what cannot work with a message, not a traceback."""

import pytest
from django.core.management import CommandError, call_command

from events.checks import check_bridges


def test_bridge_names_an_unconfigured_bridge_and_what_is_configured(settings):
    settings.EVENTS = {**settings.EVENTS, "BRIDGES": []}

    with pytest.raises(CommandError, match="No bridge named 'kafka' is configured"):
        call_command("bridge", "kafka")


def test_consume_kafka_without_a_cluster_says_which_variable_to_set(settings):
    settings.EVENTS = {**settings.EVENTS, "KAFKA": {}}

    with pytest.raises(CommandError, match="KAFKA_BOOTSTRAP_SERVERS"):
        call_command("consume", "kafka", "--topic", "t")


def test_consume_refuses_an_option_without_a_value(settings):
    settings.EVENTS = {**settings.EVENTS, "KAFKA": {"bootstrap.servers": "127.0.0.1:1"}}

    with pytest.raises(CommandError, match="KEY=VALUE"):
        call_command("consume", "kafka", "--topic", "t", "--option", "session.timeout.ms")


def test_consume_sqs_refuses_a_long_poll_sqs_does_not_allow():
    with pytest.raises(CommandError, match="between 0 and 20"):
        call_command("consume", "sqs", "--queue", "q", "--wait", "30")


def test_a_bridge_carrying_an_undeclared_type_is_reported_at_start(settings):
    settings.EVENTS = {
        **settings.EVENTS,
        "BRIDGES": [{"name": "k", "transport": "kafka", "event_types": ["parcel.lost"]}],
    }

    assert [error.id for error in check_bridges()] == ["events.E003"]
