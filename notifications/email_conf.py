"""The ``NOTIFICATIONS_EMAIL`` setting: how each email is retried, read with defaults.

``email_settings.NAME`` reads ``settings.NOTIFICATIONS_EMAIL`` on every access, so
``override_settings`` reaches it; read it where the value is used, not at import.
"""

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULTS: dict[str, Any] = {
    # Tries of one email before it is given up (an operator may send it again).
    "MAX_ATTEMPTS": 8,
    # Exponential backoff between tries, with jitter: 30 s, 1 min, 2 min ... at most an hour.
    "BACKOFF_SECONDS": 30.0,
    "MAX_BACKOFF_SECONDS": 3600.0,
    # An email whose message was lost (broker down at commit, worker killed mid-send) is
    # sent again by the beat watchdog once it is this late.
    "STALL_SECONDS": 300,
    "WATCHDOG_INTERVAL_SECONDS": 60,
}


class EmailSettings:
    """Reads ``settings.NOTIFICATIONS_EMAIL`` on every access; unknown keys are refused."""

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"Unknown NOTIFICATIONS_EMAIL setting: {name}")
        user = getattr(settings, "NOTIFICATIONS_EMAIL", {})
        unknown = set(user) - set(DEFAULTS)
        if unknown:
            raise ImproperlyConfigured(
                f"Unknown keys in settings.NOTIFICATIONS_EMAIL: {sorted(unknown)}"
            )
        return user.get(name, DEFAULTS[name])


email_settings = EmailSettings()
