"""A real Prometheus scrapes the running system: web (gunicorn) and a worker's exporter.

Orders go through the web process's API to a real worker; then PromQL over Prometheus's
HTTP API must give the counts those orders made (read back from the database), promtool
must accept what each process serves, and every query of the Grafana dashboard must parse.
Marked ``prometheus``: the Makefile runs these once, in the PostgreSQL + RabbitMQ pass.
"""

import os
import signal
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from django.db import connections
from rest_framework.authtoken.models import Token

from events.models import Delivery, Event, WorkflowRun
from tests.factories import order_body
from tests.processes import (
    BIN,
    ROOT,
    Worker,
    clear_broker,
    free_port,
    process_env,
    wait_until,
)
from tests.prometheus import Prometheus, dashboard_queries, promtool

pytestmark = [
    pytest.mark.integration,
    pytest.mark.prometheus,
    pytest.mark.django_db(transaction=True),
]


@dataclass
class LiveSystem:
    web_url: str
    exporter_url: str
    prometheus: Prometheus


def start_web(port: int, metrics_dir: Path, log_path: Path) -> subprocess.Popen:
    """gunicorn with two workers, as in production (gunicorn.conf.py is read from ROOT)."""
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "project.wsgi:application",
            f"--bind=127.0.0.1:{port}",
            "--workers=2",
        ],
        cwd=ROOT,
        env=process_env(PROMETHEUS_MULTIPROC_DIR=str(metrics_dir)),
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def answers() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited:\n{log_path.read_text()[-3000:]}")
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(answers, timeout=60, message="gunicorn to answer /healthz")
    return process


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def live(django_db_setup, django_db_blocker) -> Iterator[LiveSystem]:  # type: ignore[no-untyped-def]
    web_port, exporter_port, prometheus_port = free_port(), free_port(), free_port()
    with tempfile.TemporaryDirectory(prefix="live-metrics-") as tmp:
        web_dir, worker_dir = Path(tmp, "web"), Path(tmp, "worker")
        web_dir.mkdir()
        worker_dir.mkdir()
        with django_db_blocker.unblock():
            clear_broker()
            worker = Worker(
                concurrency=2,
                env={
                    "PROMETHEUS_MULTIPROC_DIR": str(worker_dir),
                    "METRICS_EXPORTER_PORT": str(exporter_port),
                },
            ).start()
        web = start_web(web_port, web_dir, Path(tmp, "web.log"))
        prometheus = Prometheus(
            port=prometheus_port,
            targets={"web": f"127.0.0.1:{web_port}", "worker": f"127.0.0.1:{exporter_port}"},
        )
        try:
            prometheus.start()
            yield LiveSystem(
                web_url=f"http://127.0.0.1:{web_port}",
                exporter_url=f"http://127.0.0.1:{exporter_port}",
                prometheus=prometheus,
            )
        finally:
            prometheus.stop()
            stop(web)
            worker.stop()
            with django_db_blocker.unblock():
                connections.close_all()


def place_through_the_web(live: LiveSystem, customer, bodies: list[dict]) -> list[int]:  # type: ignore[no-untyped-def]
    token, _ = Token.objects.get_or_create(user=customer)
    headers = {"Authorization": f"Token {token.key}"}
    ids = []
    with httpx.Client(base_url=live.web_url, headers=headers, timeout=30) as client:
        for body in bodies:
            response = client.post("/api/orders/", json=body)
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
    return ids


def test_promql_over_the_live_processes_counts_what_the_orders_did(
    live, customer, catalog, wait_settled
):
    orders = [
        order_body(("MUG-LOGO", 1)),
        order_body(("CAP-NAVY", 1)),
        order_body(("TEE-BLACK-M", 1), token="tok_flaky"),  # two retries, then fulfilled
        order_body(("MUG-LOGO", 1), token="tok_decline"),  # failed, its stock released
    ]
    place_through_the_web(live, customer, orders)
    wait_until(
        lambda: WorkflowRun.objects.filter(status__in=["succeeded", "failed"]).count() == 4,
        timeout=90,
        message="the four runs to end",
    )
    wait_settled()
    handled = Counter(
        Delivery.objects.filter(status="succeeded").values_list("event__type", flat=True)
    )
    assert handled["order.placed"] >= 4
    prometheus = live.prometheus

    for event_type, count in handled.items():
        prometheus.wait_for_value(
            f'sum(events_handled_total{{job="worker",type="{event_type}"}})', count
        )
    prometheus.wait_for_value(
        'sum(events_workflows_finished_total{workflow="orders.fulfillment",status="succeeded"})', 3
    )
    prometheus.wait_for_value(
        'sum(events_workflows_finished_total{workflow="orders.fulfillment",status="failed"})', 1
    )
    prometheus.wait_for_value(
        'sum(events_workflows_started_total{workflow="orders.fulfillment"})', 4
    )
    # order.placed is emitted by the web process, the rest by the worker: both are scraped.
    prometheus.wait_for_value("sum(events_emitted_total)", Event.objects.count())
    prometheus.wait_for_value('sum(events_emitted_total{job="web"})', 4)
    prometheus.wait_for_value(
        'sum(django_http_responses_total_by_status_view_method_total{job="web",status="201"})', 4
    )
    assert prometheus.value('sum(celery_task_retries_total{job="worker"})') >= 2
    assert prometheus.value("max(events_outbox_pending)") == 0


def test_promtool_accepts_what_the_web_process_and_the_worker_exporter_serve(
    live, customer, catalog, wait_settled
):
    place_through_the_web(live, customer, [order_body(("MUG-LOGO", 1))])
    wait_until(WorkflowRun.objects.exists, timeout=60, message="the order's run to start")
    wait_settled()
    served = {
        f"{live.web_url}/metrics": "# TYPE django_http_responses_total_by_status_total counter",
        f"{live.exporter_url}/metrics": "# TYPE events_handled_total counter",
    }
    for url, family in served.items():
        response = httpx.get(url, timeout=10)
        assert response.status_code == 200, url
        assert family in response.text, url

        result = promtool("check", "metrics", stdin=response.text)

        assert result.returncode == 0, (url, result.stdout + result.stderr)


def test_every_query_of_the_grafana_dashboard_parses_in_prometheus(live):
    queries = dashboard_queries()
    assert len(queries) > 20

    for query in queries:
        response = live.prometheus.api("query", query=query)
        body = response.json()
        assert body["status"] == "success", (query, body.get("error"))


def test_prometheus_loads_the_alert_rules(live):
    groups = live.prometheus.api("rules").json()["data"]["groups"]

    names = {rule["name"] for group in groups for rule in group["rules"]}
    assert "CompensationFailed" in names
    assert len(names) == 5
