"""The ORDERS setting: defaults, read when used, and checked at start-up."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from orders.checks import SETTINGS_INVALID, orders_settings_check
from orders.conf import DEFAULTS, orders_settings
from tests.factories import order_body


def test_a_setting_not_given_has_its_default(settings):
    settings.ORDERS = {}

    assert {name: getattr(orders_settings, name) for name in DEFAULTS} == DEFAULTS


def test_a_setting_is_read_when_used_so_an_override_reaches_it(settings):
    settings.ORDERS = {"PENDING_TTL_SECONDS": 60}

    assert orders_settings.PENDING_TTL_SECONDS == 60
    assert orders_settings.MAX_LINES == 50  # its default


def test_an_unknown_key_is_refused_when_read(settings):
    settings.ORDERS = {"PENDING_TTL": 60}

    with pytest.raises(ImproperlyConfigured, match="PENDING_TTL"):
        orders_settings.MAX_LINES  # noqa: B018
    with pytest.raises(AttributeError):
        orders_settings.NO_SUCH_SETTING  # noqa: B018


def test_the_check_passes_the_defaults_and_the_environments_values(settings):
    settings.ORDERS = {
        "SANDBOX_READ_TIMEOUT_SECONDS": 1.5,
        "GUARD_OUTSIDE_CALLS": True,
        "PAYMENT_CONFIRMATION_TIMEOUT_SECONDS": 4.0,
    }

    assert orders_settings_check() == []


@pytest.mark.parametrize(
    ("orders", "says"),
    [
        ({"PENDING_TTL": 60}, "Unknown key 'PENDING_TTL' in settings.ORDERS"),
        ({"PENDING_TTL_SECONDS": 0}, "'PENDING_TTL_SECONDS'] must be a whole number above zero"),
        ({"MAX_LINES": 2.5}, "'MAX_LINES'] must be a whole number above zero"),
        ({"MAX_QUANTITY": True}, "'MAX_QUANTITY'] must be a whole number above zero"),
        ({"RETURN_WINDOW_DAYS": -1}, "'RETURN_WINDOW_DAYS'] must be a whole number above zero"),
        (
            {"PAYMENT_CONFIRMATION_TIMEOUT_SECONDS": 0},
            "'PAYMENT_CONFIRMATION_TIMEOUT_SECONDS'] must be a number of seconds above zero",
        ),
        (
            {"RETURN_PARCEL_TIMEOUT_SECONDS": "14d"},
            "'RETURN_PARCEL_TIMEOUT_SECONDS'] must be a number of seconds above zero",
        ),
        (
            {"SANDBOX_CONNECT_TIMEOUT_SECONDS": 0},
            "'SANDBOX_CONNECT_TIMEOUT_SECONDS'] must be a number of seconds above zero",
        ),
        ({"GUARD_OUTSIDE_CALLS": "yes"}, "'GUARD_OUTSIDE_CALLS'] must be True or False"),
    ],
)
def test_the_check_refuses_unknown_keys_and_bad_values(settings, orders, says):
    settings.ORDERS = orders

    errors = orders_settings_check()

    assert [error.id for error in errors] == [SETTINGS_INVALID]
    assert says in errors[0].msg


def test_the_check_runs_with_django_s_system_checks(settings):
    settings.ORDERS = {"PENDING_TTL_SECONDS": -5}

    with pytest.raises(SystemCheckError, match=SETTINGS_INVALID):
        call_command("check")


@pytest.mark.django_db
def test_the_api_s_limits_follow_the_setting_as_it_is_now(customer_client, catalog, settings):
    settings.ORDERS = {"MAX_QUANTITY": 2, "MAX_LINES": 1}

    too_many_units = customer_client.post(
        "/api/orders/", order_body(("MUG-LOGO", 3)), format="json"
    )
    too_many_lines = customer_client.post(
        "/api/orders/", order_body(("MUG-LOGO", 1), ("CAP-NAVY", 1)), format="json"
    )

    assert too_many_units.status_code == 400
    assert too_many_units.json()["errors"]["lines"]["0"]["quantity"] == [
        "Ensure this value is less than or equal to 2."
    ]
    assert too_many_lines.status_code == 400
    assert too_many_lines.json()["errors"]["lines"] == {
        "non_field_errors": ["Ensure this field has no more than 1 elements."]
    }
