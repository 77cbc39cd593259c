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
    # Off, the beat watchdog resends nothing: a killed worker's messages then come back
    # only if the broker redelivers them (RabbitMQ, Redis; not the filesystem transport),
    # and a step or delivery whose message a broker outage lost is not sent again. Tests
    # turn it off to prove the redelivery; production leaves it on.
    "WATCHDOG_ENABLED": True,
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
    # Outbound bridges to outside brokers: a list of dicts, each with a "name", a
    # "transport" ("kafka" or "sns"), the "event_types" it carries (a list, or "*") and
    # the transport's own keys (see events/bridges/config.py).
    "BRIDGES": [],
    # librdkafka options shared by the Kafka bridge and consumer ("bootstrap.servers", ...).
    "KAFKA": {},
    # boto3 client options shared by the SNS bridge and the SQS consumer
    # ("region_name", "endpoint_url", ...).
    "AWS": {},
    # The CloudEvents "source" of the events this project publishes.
    "CLOUDEVENTS_SOURCE": "/fulfillment",
    # How many events a bridge publishes at most per batch, and how often an idle one looks.
    # Each batch waits once for the broker's last acknowledgement and reads and writes the
    # checkpoint: at 500 that was a third of the Kafka bridge's time on a backlog.
    "BRIDGE_BATCH_SIZE": 2000,
    "BRIDGE_POLL_SECONDS": 0.05,
    # An outbox id missing this long after a later one was stored belongs to a transaction
    # that rolled back or still runs: the bridge passes it over and publishes it if it comes.
    "BRIDGE_GAP_WAIT_SECONDS": 10.0,
    # A bridge or consumer that cannot reach its broker tries again after this many seconds,
    # doubling up to the maximum.
    "BRIDGE_RETRY_SECONDS": 1.0,
    "BRIDGE_MAX_RETRY_SECONDS": 30.0,
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
