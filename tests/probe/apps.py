import os

from django.apps import AppConfig


class ProbeConfig(AppConfig):
    name = "tests.probe"
    label = "probe"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Worker processes started by a test resolve the webhook hosts it names (see
        # tests/helpers/webhooks.py, imported only then: the suite rewrites its asserts).
        if hosts := os.environ.get("PROBE_WEBHOOK_HOSTS"):
            from notifications.services.webhook_targets import set_resolver
            from tests.helpers.webhooks import static_resolver

            set_resolver(static_resolver(dict(pair.split("=", 1) for pair in hosts.split(","))))
