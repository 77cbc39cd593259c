from django.apps import AppConfig
from django.core import checks
from django.db.models.signals import post_migrate

from .checks import orders_settings_check


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imports django-celery-beat's models, which exist only once the apps are loaded.
        from . import schedules

        checks.register(orders_settings_check)
        post_migrate.connect(schedules.register_periodic_tasks, sender=self)
