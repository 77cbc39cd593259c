"""The benchmark's own Django app, loaded only by ``bench/run.py`` (``DJANGO_EXTRA_APPS``).

It declares a no-op event type, subscriber, workflow and plain Celery task, so the
benchmarks measure the engine's own cost and nothing of the order domain.
"""

from django.apps import AppConfig


class BenchConfig(AppConfig):
    name = "bench.benchapp"
    label = "benchapp"
    verbose_name = "Benchmarks"
    default_auto_field = "django.db.models.BigAutoField"
