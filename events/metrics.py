"""Prometheus gauges read from the engine's tables at scrape time."""

from collections.abc import Iterator

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from .bridges.selectors import bridge_states
from .models import DeadLetter, Delivery, InboundDeadLetter, WorkflowRun
from .selectors import outbox_backlog


class EventsCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        backlog = outbox_backlog()
        yield GaugeMetricFamily(
            "events_outbox_pending", "Outbox rows not yet published.", value=backlog.pending
        )
        yield GaugeMetricFamily(
            "events_outbox_lag_seconds",
            "Age of the oldest unpublished outbox row.",
            value=backlog.lag_seconds,
        )
        yield GaugeMetricFamily(
            "events_dead_letters_open",
            "Dead letters awaiting an operator.",
            value=DeadLetter.objects.open().count(),
        )
        deliveries = GaugeMetricFamily(
            "events_deliveries", "Deliveries by status.", labels=["status"]
        )
        for row in Delivery.objects.values("status").annotate(n=Count("pk")):
            deliveries.add_metric([row["status"]], row["n"])
        yield deliveries
        runs = GaugeMetricFamily(
            "events_workflow_runs",
            "Workflow runs by workflow and status.",
            labels=["workflow", "status"],
        )
        counts = {
            (row["workflow"], row["status"]): row["n"]
            for row in WorkflowRun.objects.values("workflow", "status").annotate(n=Count("pk"))
        }
        # Every status of every workflow seen, zeros included, so an alert on one
        # (compensation_failed) has a series before the first run gets there.
        for workflow in sorted({workflow for workflow, _ in counts}):
            for status in WorkflowRun.Status.values:
                runs.add_metric([workflow, status], counts.get((workflow, status), 0))
        yield runs
        yield from self.collect_bridges()

    def collect_bridges(self) -> Iterator[GaugeMetricFamily]:
        lag = GaugeMetricFamily(
            "events_bridge_lag", "Events a bridge carries not yet acknowledged.", labels=["bridge"]
        )
        paused = GaugeMetricFamily("events_bridge_paused", "1 if paused.", labels=["bridge"])
        for state in bridge_states():
            lag.add_metric([state.name], state.lag)
            paused.add_metric([state.name], int(state.paused))
        yield lag
        yield paused
        yield GaugeMetricFamily(
            "events_inbound_dead_letters",
            "Inbound messages refused (kept with the reason).",
            value=InboundDeadLetter.objects.count(),
        )
