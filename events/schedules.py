"""Periodic tasks registered in django-celery-beat's tables after every migrate."""

from typing import Any

from django_celery_beat.models import IntervalSchedule, PeriodicTask

from . import dispatch
from .conf import events_settings


def ensure_periodic_task(*, name: str, task: str, every_seconds: int, description: str) -> None:
    """Create or update an interval task, keeping an operator's enabled/disabled choice."""
    schedule, _ = IntervalSchedule.objects.get_or_create(
        every=every_seconds, period=IntervalSchedule.SECONDS
    )
    PeriodicTask.objects.update_or_create(
        name=name, defaults={"task": task, "interval": schedule, "description": description}
    )


def register_periodic_tasks(**kwargs: Any) -> None:
    ensure_periodic_task(
        name="events: sweep the outbox",
        task=dispatch.SWEEP_OUTBOX,
        every_seconds=events_settings.SWEEP_INTERVAL_SECONDS,
        description="Publishes outbox rows that the after-commit fast path left behind.",
    )
    ensure_periodic_task(
        name="events: resume stalled deliveries and workflow steps",
        task=dispatch.RESUME_STALLED,
        every_seconds=events_settings.WATCHDOG_INTERVAL_SECONDS,
        description="Sends again what a lost message left waiting (broker down, worker died).",
    )
    ensure_periodic_task(
        name="events: fire workflow timers",
        task=dispatch.FIRE_WORKFLOW_TIMERS,
        every_seconds=events_settings.TIMER_INTERVAL_SECONDS,
        description="Fails workflow steps that waited past their deadline for a signal.",
    )
