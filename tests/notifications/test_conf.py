"""The ``NOTIFICATIONS`` setting: defaults, refused values, and the environment's part."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from notifications.conf import notifications_settings, notifications_settings_problems
from tests.test_deployment import SETUP, run_python


def test_defaults_apply_and_override_settings_is_followed(settings):
    assert notifications_settings.WEBHOOK_RETRY_SCHEDULE == [
        5,
        300,
        1800,
        7200,
        18000,
        36000,
        36000,
    ]
    settings.NOTIFICATIONS = {"WEBHOOK_READ_TIMEOUT_SECONDS": 2.5}

    assert notifications_settings.WEBHOOK_READ_TIMEOUT_SECONDS == 2.5
    assert notifications_settings_problems() == []


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"WEBHOOK_RETRY_SCHEDULE": [5, -1]}, "must list positive seconds"),
        ({"WEBHOOK_RETRY_JITTER": 1.5}, "must be from 0 up to below 1"),
        ({"WEBHOOK_DISABLE_AFTER_FAILED_DELIVERIES": 0}, "a whole number above zero"),
        ({"WEBHOOK_STALL_SECONDS": 5}, "must outlast both timeouts"),
        ({"WEBHOOK_RETRIES": 3}, "Unknown keys"),
    ],
)
def test_values_out_of_range_are_reported(settings, value, problem):
    settings.NOTIFICATIONS = value

    assert any(problem in p for p in notifications_settings_problems())


def test_an_unknown_key_is_refused_when_read(settings):
    settings.NOTIFICATIONS = {"WEBHOOK_RETRIES": 3}

    with pytest.raises(ImproperlyConfigured):
        _ = notifications_settings.WEBHOOK_USER_AGENT


def test_the_environment_sets_the_webhook_knobs(tmp_path):
    code = (
        SETUP + "\nfrom django.conf import settings\nprint(sorted(settings.NOTIFICATIONS.items()))"
    )

    result = run_python(
        code,
        tmp_path,
        DJANGO_SECRET_KEY="s",
        WEBHOOKS_ALLOW_PRIVATE_TARGETS="true",
        WEBHOOKS_RETRY_SCHEDULE="1, 2.5",
        WEBHOOKS_DISABLE_AFTER_FAILED_DELIVERIES="3",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "[('WEBHOOK_ALLOW_PRIVATE_TARGETS', True), "
        "('WEBHOOK_DISABLE_AFTER_FAILED_DELIVERIES', 3), "
        "('WEBHOOK_RETRY_SCHEDULE', [1.0, 2.5])]"
    )


def test_private_targets_are_refused_unless_the_environment_says_otherwise(tmp_path):
    code = SETUP + "\nfrom django.conf import settings\nprint(settings.NOTIFICATIONS)"

    result = run_python(code, tmp_path, DJANGO_SECRET_KEY="s")
    bad = run_python(code, tmp_path, DJANGO_SECRET_KEY="s", WEBHOOKS_RETRY_SCHEDULE="5,soon")

    assert result.stdout.strip() == "{'WEBHOOK_ALLOW_PRIVATE_TARGETS': False}"
    assert bad.returncode != 0
    assert "WEBHOOKS_RETRY_SCHEDULE must list seconds" in bad.stderr
