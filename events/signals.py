"""Signals the engine sends about its own processes, for the project to hook into."""

from django.dispatch import Signal

# A ``manage.py relay`` process started or is stopping (no arguments): the project starts
# and stops what such a process serves beside its work, e.g. a metrics exporter.
relay_started = Signal()
relay_stopped = Signal()
