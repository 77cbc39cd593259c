from celery.signals import task_postrun, task_prerun
from django.apps import AppConfig
from django.db.models.signals import post_migrate, post_save
from django.utils.module_loading import autodiscover_modules


class EventsConfig(AppConfig):
    name = "events"
    label = "events"
    verbose_name = "Events and workflows"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported once the models are: checks register themselves, and the engine's tasks
        # must be known in every process that sends them by name (web, relay, beat), not
        # only in the workers.
        from . import checks, instruments, schedules, tasks, tracing  # noqa: F401
        from .models import WorkflowRun

        # Each installed app declares its event types, subscribers, projections and
        # workflows in modules of these names; importing them fills the registries.
        autodiscover_modules("events", "subscribers", "projections", "workflows")
        post_migrate.connect(schedules.register_periodic_tasks, sender=self)
        # A task runs under the cause its message carries (see events.dispatch).
        task_prerun.connect(tracing.restore_task_cause, dispatch_uid="events.trace_restore")
        task_postrun.connect(tracing.release_task_cause, dispatch_uid="events.trace_release")
        # Every move of the engine saves a run's new status: its start and its end are
        # counted for Prometheus there, once the save commits.
        post_save.connect(
            instruments.workflow_run_saved, sender=WorkflowRun, dispatch_uid="events.run_metrics"
        )
