"""A real Prometheus for the tests (Debian's ``prometheus`` package): its tools and a server.

Missing binaries fail the tests that need them, never skip them: ``.ci/run`` installs the
package when it is not there.
"""

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.processes import ROOT, wait_until

ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
PROMETHEUS_CONFIG = ROOT / "deploy" / "prometheus" / "prometheus.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "fulfillment.json"
# Grafana fills these in before a query reaches Prometheus; any of them will do to parse.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "1h"}


def tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} not found: install Debian's prometheus package (.ci/run does)"
    return path


def promtool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("promtool"), *args], input=stdin, capture_output=True, text=True, timeout=60
    )


@dataclass
class Prometheus:
    """One ``prometheus`` process on 127.0.0.1, scraping the given targets every second."""

    port: int
    targets: dict[str, str]  # job -> host:port
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="prometheus-")))
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Prometheus":
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(ALERTS)],
            "scrape_configs": [
                {"job_name": job, "metrics_path": "/metrics", "static_configs": [{"targets": [t]}]}
                for job, t in self.targets.items()
            ],
        }
        config_path = self.workdir / "prometheus.yml"
        config_path.write_text(yaml.safe_dump(config))
        log = (self.workdir / "prometheus.log").open("wb")
        self.process = subprocess.Popen(
            [
                tool("prometheus"),
                f"--config.file={config_path}",
                f"--storage.tsdb.path={self.workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(self._ready, timeout=60, message="Prometheus to be ready")
        return self

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"Prometheus exited:\n{self.log()}")
        try:
            return httpx.get(f"{self.url}/-/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def log(self) -> str:
        return (self.workdir / "prometheus.log").read_text(errors="replace")[-5000:]

    def api(self, path: str, **params: str) -> httpx.Response:
        return httpx.get(f"{self.url}/api/v1/{path}", params=params, timeout=10)

    def query(self, promql: str) -> list[dict[str, Any]]:
        """The instant vector ``promql`` gives now (an error fails the test)."""
        response = self.api("query", query=promql)
        body = response.json()
        assert body["status"] == "success", (promql, body)
        return body["data"]["result"]

    def value(self, promql: str) -> float | None:
        """The single value of ``promql``, or None while it has none."""
        result = self.query(promql)
        return float(result[0]["value"][1]) if result else None

    def wait_for_value(self, promql: str, expected: float, timeout: float = 60) -> None:
        seen: list[float | None] = []

        def matches() -> bool:
            seen.append(self.value(promql))
            return seen[-1] == expected

        try:
            wait_until(matches, timeout=timeout, message=f"{promql} == {expected}")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; last value {seen[-1]}") from None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.workdir, ignore_errors=True)


def dashboard_queries() -> list[str]:
    """Every PromQL expression of the Grafana dashboard, Grafana's variables filled in."""
    dashboard = json.loads(DASHBOARD.read_text())
    queries = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            queries.append(expr)
    return queries
