"""Prometheus counters and histograms recorded by the engine as it works.

The engine calls these at a few clear points (emission, publishing, a delivery's try, a
step's try, a run's start and end). What they count is committed work: a call made inside
a transaction records after its commit, so a rollback counts nothing.

Run under prometheus-client's multiprocess mode (``PROMETHEUS_MULTIPROC_DIR`` set), the
values of every process, Celery's pool children included, are files that one exporter
sums; without it each process keeps its own (see docs/observability.md).
"""

from collections.abc import Callable, Iterable
from typing import Any

from django.db import transaction
from prometheus_client import Counter, Histogram

EMITTED = Counter("events_emitted_total", "Events emitted (committed), by type.", ["type"])
PUBLISHED = Counter("events_published_total", "Events published to the broker, by type.", ["type"])
PUBLISH_BATCH = Histogram(
    "events_outbox_publish_batch_size",
    "Outbox rows published by one claim (fast path, relay or sweeper).",
    ["publisher"],
    buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000),
)
HANDLED = Counter(
    "events_handled_total",
    "Deliveries handled successfully, by type and subscriber.",
    ["type", "subscriber"],
)
FAILED = Counter(
    "events_failed_total",
    "Failed tries of a delivery, by type and subscriber.",
    ["type", "subscriber"],
)
DEAD_LETTERED = Counter(
    "events_dead_lettered_total",
    "Deliveries given up and dead-lettered.",
    ["type", "subscriber"],
)
DELIVERY_SECONDS = Histogram(
    "events_delivery_duration_seconds",
    "Time of one try of a delivery (handler and bookkeeping), by subscriber and result.",
    ["subscriber", "result"],
)
STEP_SECONDS = Histogram(
    "events_workflow_step_duration_seconds",
    "Time of one try of a workflow step, by step and result.",
    ["step", "result"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
WORKFLOWS_STARTED = Counter(
    "events_workflows_started_total", "Workflow runs started, by workflow.", ["workflow"]
)
WORKFLOWS_FINISHED = Counter(
    "events_workflows_finished_total",
    "Workflow runs that reached an end (succeeded, failed, cancelled, compensation_failed).",
    ["workflow", "status"],
)
WORKFLOWS_COMPENSATED = Counter(
    "events_workflows_compensated_total",
    "Workflow runs whose completed steps were undone, by workflow.",
    ["workflow"],
)

# The run statuses an operator watches; each is shown from zero, before the first one.
FINISHED_STATUSES = ("succeeded", "failed", "cancelled", "compensation_failed")
# The statuses of a run still on its way; any other status a run is saved with is an end.
UNDERWAY = ("running", "compensating")


def _after_commit(record: Callable[[], None]) -> None:
    """Record now outside a transaction, else once the caller's transaction commits."""
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(record)
    else:
        record()


def event_emitted(event_type: str) -> None:
    _after_commit(EMITTED.labels(event_type).inc)


def events_published(event_types: Iterable[str], *, publisher: str) -> None:
    """A claim's rows went out (called after its commit): one batch, one count per type."""
    event_types = list(event_types)
    if not event_types:
        return
    PUBLISH_BATCH.labels(publisher).observe(len(event_types))
    for event_type in event_types:
        PUBLISHED.labels(event_type).inc()


def delivery_tried(*, event_type: str, subscriber: str, result: str, seconds: float) -> None:
    """One try of a delivery ran to ``result`` (succeeded, failed or dead)."""
    DELIVERY_SECONDS.labels(subscriber, result).observe(seconds)
    if result == "succeeded":
        HANDLED.labels(event_type, subscriber).inc()
        return
    FAILED.labels(event_type, subscriber).inc()
    if result == "dead":
        DEAD_LETTERED.labels(event_type, subscriber).inc()


def step_tried(*, step: str, result: str, seconds: float) -> None:
    STEP_SECONDS.labels(step, result).observe(seconds)


def workflow_run_saved(
    *, instance: Any, created: bool, update_fields: Iterable[str] | None, **kwargs: Any
) -> None:
    """``post_save`` of a run (wired in ``EventsConfig.ready``): a start, or an end.

    Every move of the engine saves a run's new status, so this one receiver sees them all,
    statuses added later included. A run's outcomes appear at zero when it starts, so
    rates over them exist before the first one.
    """
    workflow, status = instance.workflow, instance.status
    if created:

        def started() -> None:
            WORKFLOWS_STARTED.labels(workflow).inc()
            for outcome in FINISHED_STATUSES:
                WORKFLOWS_FINISHED.labels(workflow, outcome)
            WORKFLOWS_COMPENSATED.labels(workflow)

        _after_commit(started)
    elif (update_fields is None or "status" in update_fields) and status not in UNDERWAY:
        _after_commit(WORKFLOWS_FINISHED.labels(workflow, status).inc)


def workflow_compensated(workflow: str) -> None:
    _after_commit(WORKFLOWS_COMPENSATED.labels(workflow).inc)
