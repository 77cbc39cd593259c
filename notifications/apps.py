from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The email tasks must be known in every process that sends them by name (web,
        # relay, beat), not only in the workers.
        from . import email_tasks  # noqa: F401

        post_migrate.connect(register_email_watchdog, sender=self)


def register_email_watchdog(**kwargs: Any) -> None:
    """The beat task that sends again emails whose message was lost."""
    from events.schedules import ensure_periodic_task

    from .email_conf import email_settings
    from .services.email import RESEND_STALLED_EMAILS

    ensure_periodic_task(
        name="notifications: resend stalled emails",
        task=RESEND_STALLED_EMAILS,
        every_seconds=email_settings.WATCHDOG_INTERVAL_SECONDS,
        description="Sends again emails left queued, retrying or sending past their time.",
    )
