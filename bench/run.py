"""Benchmarks of the events engine against bare Celery, on real worker processes.

One command: ``make bench`` (or ``.venv/bin/python bench/run.py --help``). It creates a
fresh database, migrates it in a subprocess, starts real ``celery worker`` processes on
the chosen backend and measures, in the same run and on the same broker and workers:

1. events handled end to end per second, next to bare Celery no-op tasks per second;
2. the cost of one ``event_emit`` next to one plain INSERT of the same row (in process);
3. workflow runs completed per second, next to bare Celery canvases of the same shape,
   and the latency from placing a real order to ``fulfilled``.

Results go to ``bench/results/<date>-<backend>.json`` and a Markdown summary, printed and
written to ``bench/results/latest-<backend>.md``. See bench/README.md for what each
figure means.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))

SERVICES_DB = "fulfillment_bench"
SERVICES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SERVICES_DB_URL = f"postgres://postgres@127.0.0.1:5432/{SERVICES_DB}"
SERVICES_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"

WORKFLOW = "bench.fulfillment_shape"
TARGETS = {"events": 0.5, "emit": 1.5, "workflows": 0.4}


# --- command line -------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark the events engine against bare Celery on real workers."
    )
    parser.add_argument("--backend", choices=["embedded", "services"], default="services")
    parser.add_argument("--events", type=int, default=1000, help="events (and bare tasks)")
    parser.add_argument(
        "--workflows", type=int, default=200, help="workflow runs (and bare canvases)"
    )
    parser.add_argument("--orders", type=int, default=50, help="real orders for the latency")
    parser.add_argument(
        "--order-rate", type=float, default=2.0, help="orders placed per second (open loop)"
    )
    parser.add_argument("--emit-ops", type=int, default=200, help="emits per round (figure 2)")
    parser.add_argument("--emit-rounds", type=int, default=5, help="rounds of figure 2")
    parser.add_argument("--concurrency", type=int, default=4, help="pool processes")
    parser.add_argument(
        "--repeats", type=int, default=2, help="slices per side of figures 1 and 3 (ABBA order)"
    )
    parser.add_argument(
        "--producers",
        type=int,
        default=4,
        help="threads that emit events, start runs or send bare tasks (both sides alike)",
    )
    parser.add_argument(
        "--timeout", type=float, default=240, help="seconds each phase may take at most"
    )
    parser.add_argument("--out", type=Path, help="JSON result file")
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary VAR_DIR (logs, SQLite)"
    )
    args = parser.parse_args(argv)
    for name in (
        "events",
        "workflows",
        "orders",
        "emit_ops",
        "emit_rounds",
        "concurrency",
        "producers",
        "repeats",
    ):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.order_rate <= 0:
        parser.error("--order-rate must be positive")
    today = dt.date.today().isoformat()
    args.out = args.out or RESULTS / f"{today}-{args.backend}.json"
    return args


# --- environment, database, workers -------------------------------------------------------


def configure_environment(args: argparse.Namespace, var_dir: Path) -> dict[str, str]:
    """The environment of this process and of every worker: one database, one queue."""
    env = {
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DJANGO_EXTRA_APPS": "bench.benchapp",
        "DJANGO_DEBUG": "false",  # no query log: it would slow and grow every process
        "DJANGO_SECRET_KEY": "bench-only-secret-key",
        "LOG_LEVEL": "WARNING",
        "VAR_DIR": str(var_dir),
        "CELERY_TASK_DEFAULT_QUEUE": f"bench-{uuid.uuid4().hex[:10]}",
        "C_FORCE_ROOT": "1",
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "SQLITE_PATH"):
        os.environ.pop(name, None)
    if args.backend == "services":
        env["DATABASE_URL"] = SERVICES_DB_URL
        env["CELERY_BROKER_URL"] = SERVICES_BROKER_URL
    os.environ.update(env)
    return dict(os.environ)


def reset_database(args: argparse.Namespace) -> None:
    """Start from an empty database: drop and create it (services) or a fresh VAR_DIR."""
    if args.backend != "services":
        return  # the SQLite file lives in the fresh, temporary VAR_DIR
    import psycopg

    with psycopg.connect(SERVICES_ADMIN_URL, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{SERVICES_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{SERVICES_DB}"')


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )


class Worker:
    """One ``celery worker`` process group, always stopped by its owner."""

    def __init__(self, *, env: dict[str, str], var_dir: Path, concurrency: int) -> None:
        self.name = f"bench-{uuid.uuid4().hex[:8]}@localhost"
        self.env = env
        self.concurrency = concurrency
        self.log_path = var_dir / "logs" / f"{self.name.split('@')[0]}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def launch(self) -> Worker:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    str(BIN / "celery"),
                    "-A",
                    "project",
                    "worker",
                    "--pool=prefork",
                    f"--concurrency={self.concurrency}",
                    f"--hostname={self.name}",
                    f"--queues={self.env['CELERY_TASK_DEFAULT_QUEUE']}",
                    "--without-gossip",
                    "--without-mingle",
                    "--loglevel=WARNING",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killpg reaches the pool
            )
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        from project.celery import app

        def answers() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"worker {self.name} exited early:\n{self.log_tail()}")
            return bool(app.control.ping(destination=[self.name], timeout=0.5))

        wait_for(answers, timeout=timeout, what=f"worker {self.name} to answer a ping")

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-3000:]
        return ""

    def stop(self) -> None:
        """Warm shutdown (SIGTERM to the main process), then SIGKILL what is left of the group."""
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError):  # the main process or pool children
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@contextlib.contextmanager
def workers(env: dict[str, str], var_dir: Path, concurrency: int) -> Iterator[list[Worker]]:
    started = [Worker(env=env, var_dir=var_dir, concurrency=concurrency).launch()]
    try:
        for worker in started:
            worker.wait_ready()
        RUNNING[:] = started
        yield started
    except BaseException:
        for worker in started:
            print(f"--- log of {worker.name} (tail)\n{worker.log_tail()}", file=sys.stderr)
        raise
    finally:
        RUNNING.clear()
        for worker in started:
            worker.stop()


def delete_queue(queue: str) -> None:
    """Remove the run's queue (and its dead-letter queue, if the broker setup has one)."""
    from django.conf import settings

    from project.celery import app

    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        return  # the folder goes with the temporary VAR_DIR
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=2)
        for name in (queue, f"{queue}.dead"):
            for delete in ("queue_delete", "exchange_delete"):
                # A channel each: deleting what is not there closes the channel.
                with contextlib.suppress(Exception), conn.channel() as channel:
                    getattr(channel, delete)(name)


# --- helpers ------------------------------------------------------------------------------


# The workers of the run: a wait gives up at once if one of them died.
RUNNING: list[Worker] = []


def wait_for(predicate: Callable[[], object], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        for worker in RUNNING:
            if worker.process is not None and worker.process.poll() is not None:
                raise RuntimeError(f"worker {worker.name} died while waiting for {what}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.1)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def in_chunks(items: list[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def task_results(task_ids: list[str]) -> tuple[int, float | None]:
    """How many of these tasks succeeded, and when the last of them finished (epoch s)."""
    from django.db.models import Count, Max
    from django_celery_results.models import TaskResult

    done, last = 0, None
    for chunk in in_chunks(task_ids):
        row = TaskResult.objects.filter(task_id__in=chunk, status="SUCCESS").aggregate(
            n=Count("id"), last=Max("date_done")
        )
        done += row["n"]
        if row["last"] is not None:
            stamp = row["last"].timestamp()
            last = stamp if last is None else max(last, stamp)
    return done, last


def failed_tasks(task_ids: list[str]) -> int:
    from django_celery_results.models import TaskResult

    return sum(
        TaskResult.objects.filter(task_id__in=chunk, status="FAILURE").count()
        for chunk in in_chunks(task_ids)
    )


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def produce(count: int, producers: int, fn: Callable[[int], Any], timeout: float) -> list[Any]:
    """Call ``fn(0) .. fn(count - 1)`` from ``producers`` threads; return the results in order.

    Like that many web processes emitting at once: each thread has its own database
    connection (closed when it is done) and shares the process's broker producer pool.
    """
    from django.db import connection

    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def work(first: int) -> None:
        try:
            for i in range(first, count, producers):
                if errors:
                    return
                results[i] = fn(i)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(k,), daemon=True) for k in range(producers)]
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    if any(thread.is_alive() for thread in threads):
        errors.append(TimeoutError(f"producers still busy after {timeout:.0f}s"))
    if errors:
        raise errors[0]
    return results


def compare(
    engine: Callable[[int, int], dict[str, Any]],
    bare: Callable[[int, int], dict[str, Any]],
    count: int,
    repeats: int,
) -> dict[str, Any]:
    """Measure both sides in ``repeats`` slices, in ABBA order (engine, bare, bare, engine).

    The machine's load drifts during a run; interleaving lets the drift hit both sides
    alike. Each side's rate is its total count over its total time.
    """
    shares = [count // repeats + (1 if k < count % repeats else 0) for k in range(repeats)]
    runs: dict[str, list[dict[str, Any]]] = {"engine": [], "bare_celery": []}
    for k, share in enumerate(shares):
        sides = [("engine", engine), ("bare_celery", bare)]
        if k % 2:
            sides.reverse()
        for name, measure in sides:
            runs[name].append(measure(share, k))
    result: dict[str, Any] = {}
    for name, samples in runs.items():
        total = sum(sample["count"] for sample in samples)
        seconds = sum(sample["seconds"] for sample in samples)
        result[name] = {
            "count": total,
            "seconds": round(seconds, 3),
            "per_second": round(rate(total, seconds), 1),
            "runs": samples,
        }
    result["ratio"] = round(result["engine"]["per_second"] / result["bare_celery"]["per_second"], 2)
    return result


# --- 1. events end to end vs bare tasks ---------------------------------------------------


def emit_pings(count: int, prefix: str, producers: int, timeout: float) -> None:
    from django.db import transaction

    from events.services import event_emit

    def emit(i: int) -> None:
        with transaction.atomic():  # one transaction each: the fast path publishes on commit
            event_emit(type="bench.ping", aggregate_id=f"{prefix}-{i}", payload={"n": i})

    produce(count, producers, emit, timeout)


def measure_events(count: int, timeout: float, producers: int, prefix: str = "e") -> dict[str, Any]:
    from django.db.models import Max

    from events.models import Delivery, OutboxEvent

    delivered = Delivery.objects.filter(subscriber="bench.noop", status="succeeded")
    unpublished = OutboxEvent.objects.pending().filter(event__aggregate_id__startswith=f"{prefix}-")
    base = delivered.count()
    start = time.time()
    emit_pings(count, prefix, producers, timeout)
    emitted = time.time()

    # Nothing sweeps the outbox here (no beat): every event must go by the fast path.
    give_up_on_outbox = time.monotonic() + timeout / 2

    def settled() -> bool:
        if delivered.count() >= base + count:
            return True
        if time.monotonic() > give_up_on_outbox and unpublished.exists():
            raise RuntimeError("events left in the outbox: the after-commit publish failed")
        return False

    wait_for(settled, timeout=timeout, what=f"{count} bench.noop deliveries")
    last = delivered.aggregate(last=Max("succeeded_at"))["last"].timestamp()
    elapsed = last - start
    return {
        "count": count,
        "seconds": round(elapsed, 3),
        "per_second": round(rate(count, elapsed), 1),
        "emit_phase_seconds": round(emitted - start, 3),
        "unpublished_outbox_rows": unpublished.count(),
        "dead_or_failed_deliveries": Delivery.objects.filter(
            subscriber="bench.noop", status__in=["dead", "failed"]
        ).count(),
    }


def measure_bare_tasks(count: int, timeout: float, producers: int) -> dict[str, Any]:
    from bench.benchapp.tasks import noop

    start = time.time()
    ids = produce(count, producers, lambda i: noop.apply_async(args=(i,)).id, timeout)
    sent = time.time()
    wait_for(
        lambda: task_results(ids)[0] >= count, timeout=timeout, what=f"{count} bench.noop tasks"
    )
    _, last = task_results(ids)
    assert last is not None
    elapsed = last - start
    return {
        "count": count,
        "seconds": round(elapsed, 3),
        "per_second": round(rate(count, elapsed), 1),
        "send_phase_seconds": round(sent - start, 3),
    }


# --- 2. emit cost vs plain INSERT ---------------------------------------------------------


def measure_emit_cost(ops: int, rounds: int) -> dict[str, Any]:
    """Per-operation cost of emit vs a plain INSERT, each in its own transaction, in process.

    The after-commit publish is replaced by a no-op, so only the database work of emitting
    (stream sequence, event row, outbox row, schema validation, hook) is measured.
    """
    from unittest import mock

    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    import events.services.emission as emission
    from bench.benchapp.models import PlainRow
    from events.models import OutboxEvent
    from events.services import event_emit

    def emit_new(r: int, i: int) -> None:
        with transaction.atomic():
            event_emit(type="bench.ping", aggregate_id=f"new-{r}-{i}", payload={"n": i})

    def emit_existing(r: int, i: int) -> None:
        with transaction.atomic():
            event_emit(type="bench.ping", aggregate_id=f"existing-{r}", payload={"n": i})

    def plain(r: int, i: int) -> None:
        with transaction.atomic():
            PlainRow.objects.create(
                id=uuid.uuid4(),
                type="bench.ping",
                version=1,
                aggregate_type="bench",
                aggregate_id=f"plain-{r}-{i}",
                sequence=1,
                correlation_id=uuid.uuid4(),
                payload={"n": i},
            )

    kinds: dict[str, Callable[[int, int], None]] = {
        "emit_new_aggregate": emit_new,
        "emit_existing_aggregate": emit_existing,
        "plain_insert": plain,
    }
    samples: dict[str, list[float]] = {name: [] for name in kinds}
    queries: dict[str, list[str]] = {}
    with mock.patch.object(emission, "outbox_publish", lambda **kwargs: 0):
        for name, fn in kinds.items():  # warm up, and count the statements of one op
            for i in range(20):
                fn(-1, i)
            with CaptureQueriesContext(connection) as captured:
                fn(-1, 999)  # the aggregate of "existing" exists by now
            queries[name] = [q["sql"].split(None, 1)[0] for q in captured.captured_queries]
        for r in range(rounds):
            order = list(kinds.items())
            if r % 2:  # alternate the order, so neither side always runs on a warmer cache
                order.reverse()
            for name, fn in order:
                clock = time.perf_counter()
                for i in range(ops):
                    fn(r, i)
                samples[name].append((time.perf_counter() - clock) / ops * 1e6)

    result: dict[str, Any] = {"ops_per_round": ops, "rounds": rounds}
    for name, values in samples.items():
        result[name] = {
            "us_per_op_median": round(statistics.median(values), 1),
            "us_per_op_rounds": [round(v, 1) for v in values],
            "statements_per_op": len(queries[name]),
            "statements": queries[name],
        }
    # These events were never meant to go out: take them out of the outbox, so that nothing
    # (a sweeper folded into a worker, say) publishes them during the other figures.
    OutboxEvent.objects.filter(published_at__isnull=True).delete()
    plain_us = result["plain_insert"]["us_per_op_median"]
    result["ratio"] = round(result["emit_new_aggregate"]["us_per_op_median"] / plain_us, 2)
    result["ratio_existing_aggregate"] = round(
        result["emit_existing_aggregate"]["us_per_op_median"] / plain_us, 2
    )
    return result


# --- 3. workflows vs bare canvases, and real orders -----------------------------------------


def start_runs(count: int, prefix: str, producers: int, timeout: float) -> None:
    from django.db import transaction

    from events.workflows import workflow_start

    def start(i: int) -> None:
        with transaction.atomic():
            workflow_start(workflow=WORKFLOW, subject_id=f"{prefix}{i}")

    produce(count, producers, start, timeout)


def measure_workflows(
    count: int, timeout: float, producers: int, prefix: str = ""
) -> dict[str, Any]:
    from django.db.models import Max

    from events.models import WorkflowRun

    runs = WorkflowRun.objects.filter(workflow=WORKFLOW)
    base = runs.filter(status="succeeded").count()
    start = time.time()
    start_runs(count, prefix, producers, timeout)
    started = time.time()

    def settled() -> bool:
        if runs.filter(status__in=["failed", "compensating"]).exists():
            raise RuntimeError("a bench workflow run failed")
        return runs.filter(status="succeeded").count() >= base + count

    wait_for(settled, timeout=timeout, what=f"{count} {WORKFLOW} runs")
    last = runs.aggregate(last=Max("finished_at"))["last"].timestamp()
    elapsed = last - start
    return {
        "count": count,
        "seconds": round(elapsed, 3),
        "per_second": round(rate(count, elapsed), 1),
        "start_phase_seconds": round(started - start, 3),
    }


def bare_canvas(i: int) -> Any:
    from celery import chain, group

    from bench.benchapp.tasks import noop

    # A group followed by a task in a chain becomes a chord: the shape of the workflow.
    return chain(noop.si(i), noop.si(i), group(noop.si(i), noop.si(i)), noop.si(i))


def measure_bare_canvases(count: int, timeout: float, producers: int) -> dict[str, Any]:
    start = time.time()
    finals = produce(count, producers, lambda i: bare_canvas(i).apply_async().id, timeout)
    sent = time.time()

    def settled() -> bool:
        if failed_tasks(finals):
            raise RuntimeError("a bare canvas failed")
        return task_results(finals)[0] >= count

    wait_for(settled, timeout=timeout, what=f"{count} bare canvases")
    _, last = task_results(finals)
    assert last is not None
    elapsed = last - start
    return {
        "count": count,
        "seconds": round(elapsed, 3),
        "per_second": round(rate(count, elapsed), 1),
        "send_phase_seconds": round(sent - start, 3),
    }


def make_customer() -> Any:
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from orders.models import Product

    user, _ = get_user_model().objects.get_or_create(
        username="bench-customer", defaults={"email": "bench@example.com"}
    )
    token, _ = Token.objects.get_or_create(user=user)
    for sku, price in (("BENCH-MUG", "12.50"), ("BENCH-CAP", "15.00")):
        Product.objects.update_or_create(
            sku=sku, defaults={"name": sku, "price": Decimal(price), "stock": 1_000_000}
        )
    return Client(HTTP_AUTHORIZATION=f"Token {token.key}")


def place_order(client: Any) -> int:
    body = {
        "lines": [{"sku": "BENCH-MUG", "quantity": 2}, {"sku": "BENCH-CAP", "quantity": 1}],
        "payment_token": "tok_ok",
    }
    response = client.post("/api/orders/", body, content_type="application/json")
    if response.status_code != 201:
        raise RuntimeError(f"POST /api/orders/ answered {response.status_code}: {response.content}")
    return int(response.json()["id"])


def measure_orders(client: Any, count: int, per_second: float, timeout: float) -> dict[str, Any]:
    """Place ``count`` orders at a steady pace; time each from the POST to ``fulfilled``."""
    from events.models import Event
    from orders.models import Order

    placed: dict[int, float] = {}
    post_ms: list[float] = []
    start = time.monotonic()
    for i in range(count):
        pause = start + i / per_second - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        before = time.time()
        order_id = place_order(client)
        post_ms.append((time.time() - before) * 1000)
        placed[order_id] = before

    ids = list(placed)
    terminal = Order.objects.filter(pk__in=ids, status__in=Order.TERMINAL)
    wait_for(lambda: terminal.count() >= count, timeout=timeout, what=f"{count} orders to finish")
    statuses = dict(Order.objects.filter(pk__in=ids).values_list("pk", "status"))
    not_fulfilled = {pk: s for pk, s in statuses.items() if s != Order.Status.FULFILLED}
    if not_fulfilled:
        raise RuntimeError(f"orders that did not reach fulfilled: {not_fulfilled}")
    fulfilled_at = {
        int(aggregate_id): occurred_at.timestamp()
        for aggregate_id, occurred_at in Event.objects.filter(
            type="order.fulfilled", aggregate_type="order", aggregate_id__in=[str(i) for i in ids]
        ).values_list("aggregate_id", "occurred_at")
    }
    latencies = [(fulfilled_at[pk] - placed[pk]) * 1000 for pk in ids]
    return {
        "count": count,
        "placed_per_second": per_second,
        "p50_ms": round(percentile(latencies, 50), 1),
        "p90_ms": round(percentile(latencies, 90), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(max(latencies), 1),
        "post_p50_ms": round(percentile(post_ms, 50), 1),
    }


# --- the run ------------------------------------------------------------------------------


def warm_up(client: Any, timeout: float, producers: int) -> None:
    """Load every code path in every pool process before anything is timed."""
    measure_events(40, timeout, producers, prefix="warmup")
    measure_bare_tasks(40, timeout, producers)
    measure_workflows(10, timeout, producers, prefix="warmup-")
    measure_bare_canvases(10, timeout, producers)
    measure_orders(client, 4, per_second=20, timeout=timeout)


def environment_facts(args: argparse.Namespace) -> dict[str, Any]:
    import celery
    import django
    from django.conf import settings
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            database = f"PostgreSQL {cursor.fetchone()[0]}"
        else:
            cursor.execute("SELECT sqlite_version()")
            database = f"SQLite {cursor.fetchone()[0]}"
    broker = settings.CELERY_BROKER_URL.split("://")[0]
    revision = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "revision": revision or "unknown",
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
        "backend": args.backend,
        "database": database,
        "broker": "RabbitMQ (amqp)" if broker in ("amqp", "pyamqp") else broker,
        "result_backend": settings.CELERY_RESULT_BACKEND,
        "workers": f"1 worker, prefork, concurrency {args.concurrency}",
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "celery": celery.__version__,
        "platform": platform.platform(),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    var_dir = Path(tempfile.mkdtemp(prefix="bench-", dir=ROOT / "var"))
    ok = False
    try:
        env = configure_environment(args, var_dir)
        print(f"== {args.backend}: fresh database, migrate", flush=True)
        reset_database(args)
        migrate(env)

        import django

        django.setup()
        facts = environment_facts(args)
        results: dict[str, Any] = {
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "environment": facts,
            "parameters": {
                "events": args.events,
                "workflows": args.workflows,
                "orders": args.orders,
                "order_rate": args.order_rate,
                "emit_ops": args.emit_ops,
                "emit_rounds": args.emit_rounds,
                "producers": args.producers,
                "concurrency": args.concurrency,
                "repeats": args.repeats,
            },
        }

        print("== emit cost (in process, no workers)", flush=True)
        results["emit"] = measure_emit_cost(args.emit_ops, args.emit_rounds)

        queue = env["CELERY_TASK_DEFAULT_QUEUE"]
        try:
            with workers(env, var_dir, args.concurrency):
                client = make_customer()
                print("== warm-up", flush=True)
                warm_up(client, args.timeout, args.producers)
                timeout, producers = args.timeout, args.producers
                print(f"== events: {args.events} events vs bare tasks", flush=True)
                results["events"] = compare(
                    lambda n, k: measure_events(n, timeout, producers, prefix=f"e{k}"),
                    lambda n, k: measure_bare_tasks(n, timeout, producers),
                    args.events,
                    args.repeats,
                )
                print(f"== workflows: {args.workflows} runs vs bare canvases", flush=True)
                results["workflows"] = compare(
                    lambda n, k: measure_workflows(n, timeout, producers, prefix=f"r{k}-"),
                    lambda n, k: measure_bare_canvases(n, timeout, producers),
                    args.workflows,
                    args.repeats,
                )
                print(f"== orders: {args.orders} real orders at {args.order_rate}/s", flush=True)
                results["orders"] = measure_orders(
                    client, args.orders, args.order_rate, args.timeout
                )
        finally:
            delete_queue(queue)
            from django.db import connections

            connections.close_all()
        ok = True
        return results
    finally:
        if ok and not args.keep:
            shutil.rmtree(var_dir, ignore_errors=True)
        else:
            print(f"(logs and data kept in {var_dir})", file=sys.stderr)


def verdict(value: float, target: float, *, at_most: bool = False) -> str:
    met = value <= target if at_most else value >= target
    return "met" if met else "MISSED"


def phase(side: dict[str, Any], key: str) -> float:
    return round(sum(run[key] for run in side["runs"]), 1)


def summary(results: dict[str, Any]) -> str:
    env = results["environment"]
    ev, em, wf, orders = results["events"], results["emit"], results["workflows"], results["orders"]
    lines = [
        f"# Benchmarks: {env['backend']} ({results['date']})",
        "",
        f"{env['database']}, {env['broker']} broker, result backend `{env['result_backend']}`; "
        f"{env['workers']}; {env['cpus']} CPUs; Python {env['python']}, "
        f"Django {env['django']}, Celery {env['celery']}; revision `{env['revision']}`.",
        f"Load average before the run {env['load_average_before'][0]}, after "
        f"{env['load_average_after'][0]} (1 min): other processes on the machine skew every "
        "figure; compare ratios, and rerun when the machine is quiet.",
        "",
        "| figure | engine | bare Celery | ratio | target |",
        "| --- | ---: | ---: | ---: | --- |",
        f"| events handled end to end ({ev['engine']['count']}) | "
        f"{ev['engine']['per_second']}/s | {ev['bare_celery']['per_second']} tasks/s | "
        f"{ev['ratio']} | >= {TARGETS['events']} {verdict(ev['ratio'], TARGETS['events'])} |",
        f"| emit, new aggregate (per op, median of {em['rounds']}x{em['ops_per_round']}) | "
        f"{em['emit_new_aggregate']['us_per_op_median']} us | "
        f"{em['plain_insert']['us_per_op_median']} us (plain INSERT) | {em['ratio']} | "
        f"<= {TARGETS['emit']} {verdict(em['ratio'], TARGETS['emit'], at_most=True)} |",
        f"| emit, existing aggregate | {em['emit_existing_aggregate']['us_per_op_median']} us | "
        f"{em['plain_insert']['us_per_op_median']} us (plain INSERT) | "
        f"{em['ratio_existing_aggregate']} | (same) |",
        f"| workflows completed ({wf['engine']['count']}) | {wf['engine']['per_second']}/s | "
        f"{wf['bare_celery']['per_second']} canvases/s | {wf['ratio']} | "
        f">= {TARGETS['workflows']} {verdict(wf['ratio'], TARGETS['workflows'])} |",
        "",
        f"Real orders, POST /api/orders/ to `fulfilled` ({orders['count']} orders placed at "
        f"{orders['placed_per_second']}/s): p50 {orders['p50_ms']} ms, p90 {orders['p90_ms']} ms, "
        f"p99 {orders['p99_ms']} ms, max {orders['max_ms']} ms "
        f"(the POST itself: p50 {orders['post_p50_ms']} ms).",
        "",
        f"Statements per op: emit on a new aggregate "
        f"{em['emit_new_aggregate']['statements_per_op']} "
        f"({', '.join(em['emit_new_aggregate']['statements'])}); on an existing one "
        f"{em['emit_existing_aggregate']['statements_per_op']}; plain INSERT "
        f"{em['plain_insert']['statements_per_op']} "
        f"({', '.join(em['plain_insert']['statements'])}).",
        "",
        f"Producing took {phase(ev['engine'], 'emit_phase_seconds')} s of the engine's "
        f"{ev['engine']['seconds']} s in figure 1 (bare: "
        f"{phase(ev['bare_celery'], 'send_phase_seconds')} of {ev['bare_celery']['seconds']} s), "
        f"{phase(wf['engine'], 'start_phase_seconds')} of {wf['engine']['seconds']} s in "
        f"figure 3 (bare: {phase(wf['bare_celery'], 'send_phase_seconds')} of "
        f"{wf['bare_celery']['seconds']} s): the rest is the workers catching up.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)  # unwind through every finally: workers get stopped

    signal.signal(signal.SIGTERM, stop)
    clock = time.monotonic()
    results = run(args)
    results["total_seconds"] = round(time.monotonic() - clock, 1)
    results["environment"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    text = summary(results)
    (RESULTS / f"latest-{args.backend}.md").write_text(text)
    print()
    print(text)
    print(f"Written: {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
