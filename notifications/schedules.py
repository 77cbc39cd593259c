"""The notifications app's periodic tasks, registered in django-celery-beat after migrate."""

from typing import Any

from events.schedules import ensure_periodic_task

from .conf import notifications_settings
from .services.email import RESEND_STALLED_EMAILS
from .services.webhook_sending import SEND_DUE_WEBHOOKS


def register_periodic_tasks(**kwargs: Any) -> None:
    ensure_periodic_task(
        name="notifications: send due webhook deliveries",
        task=SEND_DUE_WEBHOOKS,
        every_seconds=notifications_settings.WEBHOOK_SEND_DUE_INTERVAL_SECONDS,
        description="Queues webhook retries that are due, and deliveries whose message was lost.",
    )
    ensure_periodic_task(
        name="notifications: resend stalled emails",
        task=RESEND_STALLED_EMAILS,
        every_seconds=notifications_settings.EMAIL_WATCHDOG_INTERVAL_SECONDS,
        description="Sends again emails left queued, retrying or sending past their time.",
    )
