"""The Celery application: configured from Django settings (``CELERY_*``)."""

import os
from logging.config import dictConfig

from celery import Celery
from celery.app.utils import Settings
from celery.signals import setup_logging, task_postrun, worker_init
from django.conf import settings
from django.db import close_old_connections

from . import (
    broker,  # also registers the multi-process-safe filesystem transport
    process_metrics,  # noqa: F401  (task retries, the workers' metrics exporter)
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

app = Celery("project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def make_broker_folders(source: Settings, **kwargs: object) -> None:
    """The filesystem broker's folders exist before any process sends or consumes."""
    broker.make_filesystem_folders(source)


@setup_logging.connect
def use_django_logging(**kwargs: object) -> None:
    """Let Django's LOGGING drive Celery's loggers, so both speak one format."""
    dictConfig(settings.LOGGING)


@worker_init.connect
def declare_dead_letter_queues(**kwargs: object) -> None:
    """Poison messages of a quorum queue need somewhere to go before the first one comes."""
    broker.declare_dead_letter_queues(app)


@task_postrun.connect
def release_stale_connections(**kwargs: object) -> None:
    """Connections are reused across tasks; drop those past CONN_MAX_AGE or broken."""
    close_old_connections()
