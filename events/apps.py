from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    label = "events"
    verbose_name = "Events and workflows"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate
        from django.utils.module_loading import autodiscover_modules

        from . import checks, schedules  # noqa: F401  (registers checks)

        # Each installed app declares its event types, subscribers, projections and
        # workflows in modules of these names; importing them fills the registries.
        autodiscover_modules("events", "subscribers", "projections", "workflows")
        post_migrate.connect(schedules.register_periodic_tasks, sender=self)
