"""The ``NOTIFICATIONS`` setting, read through one object with defaults.

``notifications_settings.NAME`` reads ``settings.NOTIFICATIONS`` on every access, so
``override_settings`` reaches it; read it where the value is used, not at import.
``notifications_settings_problems`` says what is wrong with the setting; a system check
reports it at start-up.
"""

from typing import Any

from django.core import checks

from events.conf import AppSettings

DAY = 24 * 3600.0

DEFAULTS: dict[str, Any] = {
    # Seconds to wait before each retry of a failed webhook delivery (the Standard Webhooks
    # recommendation: about a day in all). After the last one the delivery is given up.
    "WEBHOOK_RETRY_SCHEDULE": [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600],
    # Each wait is stretched or shrunk at random by up to this fraction.
    "WEBHOOK_RETRY_JITTER": 0.2,
    # A receiver must accept the connection and answer within these.
    "WEBHOOK_CONNECT_TIMEOUT_SECONDS": 3.0,
    "WEBHOOK_READ_TIMEOUT_SECONDS": 10.0,
    # A subscription is disabled after this many deliveries in a row were given up, or
    # when an attempt fails and the subscription has been failing for this long.
    "WEBHOOK_DISABLE_AFTER_FAILED_DELIVERIES": 10,
    "WEBHOOK_DISABLE_AFTER_FAILING_SECONDS": 5 * DAY,
    # A retry due within this many seconds is also sent with a Celery countdown; later
    # ones wait in the database for the beat task (long countdowns are unsafe on Redis).
    "WEBHOOK_COUNTDOWN_LIMIT_SECONDS": 60.0,
    # How often beat sends the deliveries that are due, and how many at most per pass.
    "WEBHOOK_SEND_DUE_INTERVAL_SECONDS": 5,
    "WEBHOOK_SEND_DUE_BATCH_SIZE": 500,
    # A delivery queued or sending this long without news lost its message (a worker
    # died): the beat task sends it again. Must outlast the two timeouts above.
    "WEBHOOK_STALL_SECONDS": 120.0,
    # Off in production: targets on loopback, private, link-local or metadata addresses
    # are refused. The environment sets it (WEBHOOKS_ALLOW_PRIVATE_TARGETS).
    "WEBHOOK_ALLOW_PRIVATE_TARGETS": False,
    "WEBHOOK_USER_AGENT": "fulfillment-webhooks/1.0",
    # How much of a receiver's answer each attempt keeps.
    "WEBHOOK_RESPONSE_EXCERPT_CHARS": 1000,
    # Tries of one email before it is given up (an operator may send it again).
    "EMAIL_MAX_ATTEMPTS": 8,
    # Exponential backoff between tries, with jitter: 30 s, 1 min, 2 min ... at most an hour.
    "EMAIL_BACKOFF_SECONDS": 30.0,
    "EMAIL_MAX_BACKOFF_SECONDS": 3600.0,
    # An email whose message was lost (broker down at commit, worker killed mid-send) is
    # sent again by the beat watchdog once it is this late.
    "EMAIL_STALL_SECONDS": 300,
    "EMAIL_WATCHDOG_INTERVAL_SECONDS": 60,
}

_NUMBERS = (
    "WEBHOOK_CONNECT_TIMEOUT_SECONDS",
    "WEBHOOK_READ_TIMEOUT_SECONDS",
    "WEBHOOK_DISABLE_AFTER_FAILING_SECONDS",
    "WEBHOOK_COUNTDOWN_LIMIT_SECONDS",
    "WEBHOOK_STALL_SECONDS",
    "EMAIL_BACKOFF_SECONDS",
    "EMAIL_MAX_BACKOFF_SECONDS",
    "EMAIL_STALL_SECONDS",
)
_INTEGERS = (
    "WEBHOOK_DISABLE_AFTER_FAILED_DELIVERIES",
    "WEBHOOK_SEND_DUE_INTERVAL_SECONDS",
    "WEBHOOK_SEND_DUE_BATCH_SIZE",
    "WEBHOOK_RESPONSE_EXCERPT_CHARS",
    "EMAIL_MAX_ATTEMPTS",
    "EMAIL_WATCHDOG_INTERVAL_SECONDS",
)


notifications_settings = AppSettings("NOTIFICATIONS", DEFAULTS)


def _positive(value: Any, *, integer: bool) -> bool:
    kinds = int if integer else int | float
    return isinstance(value, kinds) and not isinstance(value, bool) and value > 0


def notifications_settings_problems() -> list[str]:
    """What is wrong with ``settings.NOTIFICATIONS``, one sentence each."""
    user = notifications_settings.user_settings()
    unknown = sorted(set(user) - set(DEFAULTS))
    if unknown:
        return [f"Unknown keys in settings.NOTIFICATIONS: {unknown}"]
    values = {**DEFAULTS, **user}
    problems = [
        f"NOTIFICATIONS[{name!r}] must be a number above zero, got {values[name]!r}"
        for name in _NUMBERS
        if not _positive(values[name], integer=False)
    ] + [
        f"NOTIFICATIONS[{name!r}] must be a whole number above zero, got {values[name]!r}"
        for name in _INTEGERS
        if not _positive(values[name], integer=True)
    ]
    schedule = values["WEBHOOK_RETRY_SCHEDULE"]
    if not isinstance(schedule, list | tuple) or not all(
        _positive(step, integer=False) for step in schedule
    ):
        problems.append("NOTIFICATIONS['WEBHOOK_RETRY_SCHEDULE'] must list positive seconds")
    jitter = values["WEBHOOK_RETRY_JITTER"]
    if not isinstance(jitter, int | float) or not 0 <= jitter < 1:
        problems.append("NOTIFICATIONS['WEBHOOK_RETRY_JITTER'] must be from 0 up to below 1")
    if not problems and values["WEBHOOK_STALL_SECONDS"] <= (
        values["WEBHOOK_CONNECT_TIMEOUT_SECONDS"] + values["WEBHOOK_READ_TIMEOUT_SECONDS"]
    ):
        problems.append("NOTIFICATIONS['WEBHOOK_STALL_SECONDS'] must outlast both timeouts")
    return problems


@checks.register()
def notifications_settings_check(app_configs: Any = None, **kwargs: Any) -> list[checks.Error]:
    return [
        checks.Error(problem, hint="DEFAULTS in notifications/conf.py", id="notifications.E001")
        for problem in notifications_settings_problems()
    ]
