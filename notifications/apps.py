from django.apps import AppConfig
from django.db.models.signals import post_migrate


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The tasks must be known in every process that sends them by name (web, relay,
        # beat), not only in the workers; the settings check registers itself.
        from . import conf, email_tasks, schedules, tasks  # noqa: F401

        post_migrate.connect(schedules.register_periodic_tasks, sender=self)
