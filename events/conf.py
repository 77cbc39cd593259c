"""The ``EVENTS`` setting, and the reader every app's settings dict goes through."""

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULTS: dict[str, Any] = {
    # Publish each event as soon as its transaction commits (the fast path). Off, only the
    # relay and the sweeper publish: the web process then never talks to the broker.
    "PUBLISH_ON_COMMIT": True,
    # Outbox rows still unpublished after this many seconds are republished by the sweeper.
    "SWEEP_AFTER_SECONDS": 10,
    # How often beat runs the sweeper.
    "SWEEP_INTERVAL_SECONDS": 5,
    # How many outbox rows one sweep publishes at most.
    "SWEEP_BATCH_SIZE": 500,
    # Default retry policy of a subscriber that declares none.
    "DELIVERY_MAX_ATTEMPTS": 5,
    "DELIVERY_BACKOFF_SECONDS": 1.0,
    "DELIVERY_MAX_BACKOFF_SECONDS": 300.0,
    # A workflow step queued (or running past its time limit) this long without news is
    # sent again by the watchdog.
    "WORKFLOW_STALL_SECONDS": 60,
    "WATCHDOG_INTERVAL_SECONDS": 30,
    # How often beat checks the deadlines of steps waiting for a signal.
    "TIMER_INTERVAL_SECONDS": 5,
    # A compensation (a refund, a release) that keeps failing is tried this many times,
    # with exponential backoff, before its run ends ``compensation_failed`` for an operator.
    # An error its step's retry policy does not list fails it at once.
    "COMPENSATION_MAX_ATTEMPTS": 5,
    "COMPENSATION_BACKOFF_SECONDS": 1.0,
    "COMPENSATION_MAX_BACKOFF_SECONDS": 30.0,
    # Link template to a task in Flower, shown in the admin ("" hides the links).
    "FLOWER_TASK_URL": "",
}


class AppSettings:
    """One app's settings dict, read on every access with defaults for what it leaves out.

    Reading at access time (not at import) lets ``override_settings`` reach it; an unknown
    key is refused rather than ignored. The domain apps read their own settings this way.
    """

    def __init__(self, setting: str, defaults: dict[str, Any]) -> None:
        self._setting = setting
        self._defaults = defaults

    def user_settings(self) -> dict[str, Any]:
        """What the project set, without the defaults."""
        return getattr(settings, self._setting, {})

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in self._defaults:
            raise AttributeError(f"Unknown {self._setting} setting: {name}")
        user = self.user_settings()
        unknown = set(user) - set(self._defaults)
        if unknown:
            raise ImproperlyConfigured(
                f"Unknown keys in settings.{self._setting}: {sorted(unknown)}"
            )
        return user.get(name, self._defaults[name])


events_settings = AppSettings("EVENTS", DEFAULTS)
