"""Metrics of the processes other than web: task retries, dead pool children, the exporter.

A worker's pool children write their values under ``PROMETHEUS_MULTIPROC_DIR``; the
worker's main process, and the relay, serve them on ``METRICS_EXPORTER_PORT`` when it is
set. Imported by ``project/celery.py``, so connected in every process.
"""

import logging
import os
import threading
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from celery import Task
from celery.signals import task_retry, worker_process_shutdown, worker_ready, worker_shutdown
from django.conf import settings
from django.dispatch import receiver
from prometheus_client import Counter, multiprocess

from events.signals import relay_started, relay_stopped

logger = logging.getLogger(__name__)

TASK_RETRIES = Counter(
    "celery_task_retries_total", "Retries of Celery tasks, by task name.", ["task"]
)

_exporter: WSGIServer | None = None


@task_retry.connect
def task_retried(sender: Task | None = None, **kwargs: object) -> None:
    TASK_RETRIES.labels(sender.name if sender is not None else "unknown").inc()


@worker_process_shutdown.connect
def pool_process_exited(pid: int, **kwargs: object) -> None:
    process_exited(pid)


def process_exited(pid: int) -> None:
    """A pool child is gone: its live gauges go with it (gunicorn.conf.py does the same)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Scrapes come every few seconds: not worth a log line each."""


@receiver(relay_started)
@worker_ready.connect
def start_exporter(**kwargs: object) -> None:
    """Serve this host's metrics on ``METRICS_EXPORTER_PORT``, if set, in a thread."""
    global _exporter
    port = settings.METRICS_EXPORTER_PORT
    if not port or _exporter is not None:
        return
    from .metrics import exporter_app  # reads the tables' models: only once Django is set up

    host = settings.METRICS_EXPORTER_HOST
    _exporter = make_server(host, port, exporter_app, handler_class=_QuietHandler)
    threading.Thread(target=_exporter.serve_forever, name="metrics-exporter", daemon=True).start()
    logger.info("Metrics exporter on http://%s:%s/metrics", host, port)


@receiver(relay_stopped)
@worker_shutdown.connect
def stop_exporter(**kwargs: object) -> None:
    global _exporter
    if _exporter is not None:
        _exporter.shutdown()
        _exporter.server_close()
        _exporter = None
