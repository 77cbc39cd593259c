"""The Celery application: configured from Django settings (``CELERY_*``)."""

import os

from celery import Celery
from celery.signals import setup_logging, task_postrun, worker_init

from . import broker  # also registers the multi-process-safe filesystem transport

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

app = Celery("project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def use_django_logging(**kwargs: object) -> None:
    """Let Django's LOGGING drive Celery's loggers, so both speak one format."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


@worker_init.connect
def declare_dead_letter_queues(**kwargs: object) -> None:
    """Poison messages of a quorum queue need somewhere to go before the first one comes."""
    broker.declare_dead_letter_queues(app)


@task_postrun.connect
def release_stale_connections(**kwargs: object) -> None:
    """Connections are reused across tasks; drop those past CONN_MAX_AGE or broken."""
    from django.db import close_old_connections

    close_old_connections()
