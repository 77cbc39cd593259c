"""The Prometheus files under deploy/: valid for promtool, and the alerts fire when they should.

``promtool test rules`` evaluates the rules over made-up series, as Prometheus would.
"""

import json

import yaml

from tests.prometheus import ALERTS, DASHBOARD, PROMETHEUS_CONFIG, promtool

ALERT_NAMES = {
    "OutboxLagHigh",
    "DeadLettersGrowing",
    "WorkflowFailureRateRising",
    "WorkerVanished",
    "CompensationFailed",
}


def test_promtool_accepts_the_alert_rules():
    result = promtool("check", "rules", str(ALERTS))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 5 rules found" in result.stdout


def test_promtool_accepts_the_prometheus_config_of_docker_compose():
    result = promtool("check", "config", str(PROMETHEUS_CONFIG))

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_rules_are_the_alerts_an_operator_needs():
    rules = yaml.safe_load(ALERTS.read_text())["groups"][0]["rules"]

    assert {rule["alert"] for rule in rules} == ALERT_NAMES
    for rule in rules:
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]


def rule_test(series: list[dict], alert: str, at: str, fired: list[dict]) -> dict:
    return {
        "interval": "1m",
        "input_series": series,
        "alert_rule_test": [{"eval_time": at, "alertname": alert, "exp_alerts": fired}],
    }


# What an operator reads when each alert fires on the series below.
SUMMARIES = {
    "OutboxLagHigh": "Events wait in the outbox: the oldest for 1m 30s",
    "DeadLettersGrowing": "Dead letters grew in the last 15 minutes",
    "WorkflowFailureRateRising": "orders.fulfillment: 33.33% of runs fail",
    "WorkerVanished": "A worker vanished: fewer answer than in the last 30 minutes",
    "CompensationFailed": "orders.fulfillment: a compensation failed",
}


def descriptions() -> dict[str, str]:
    rules = yaml.safe_load(ALERTS.read_text())["groups"][0]["rules"]
    return {rule["alert"]: rule["annotations"]["description"] for rule in rules}


def fired(alert: str, **labels: str) -> dict:
    annotations = {"summary": SUMMARIES[alert], "description": descriptions()[alert]}
    return {"exp_labels": labels, "exp_annotations": annotations}


def test_each_alert_fires_on_its_condition_and_not_before(tmp_path):
    lag = [{"series": "events_outbox_lag_seconds", "values": "0 0 90 90 90 90 90"}]
    dead = [{"series": "events_dead_letters_open", "values": "0 0 0 1 2 2"}]
    runs = 'events_workflows_finished_total{workflow="orders.fulfillment",status="%s"}'
    failing = [
        {"series": runs % "succeeded", "values": "0+10x30"},
        {"series": runs % "failed", "values": "0 0 0 0 0+5x30"},
    ]
    healthy = [
        {"series": runs % "succeeded", "values": "0+10x30"},
        {"series": runs % "failed", "values": "0+0x30"},
    ]
    up = 'up{job="worker",instance="%s"}'
    workers = [
        {"series": up % "w1:9808", "values": "1 1 1 1 1 1 1 1"},
        {"series": up % "w2:9808", "values": "1 1 1 0 0 0 0 0"},
    ]
    compensation = [
        {"series": runs % "compensation_failed", "values": "0 0 0 1 1"},
    ]
    critical, warning = {"severity": "critical"}, {"severity": "warning"}
    tests = [
        rule_test(lag, "OutboxLagHigh", "3m", []),  # not yet 2 minutes over
        rule_test(lag, "OutboxLagHigh", "5m", [fired("OutboxLagHigh", **critical)]),
        rule_test(dead, "DeadLettersGrowing", "2m", []),
        rule_test(dead, "DeadLettersGrowing", "4m", [fired("DeadLettersGrowing", **warning)]),
        rule_test(healthy, "WorkflowFailureRateRising", "25m", []),
        rule_test(
            failing,
            "WorkflowFailureRateRising",
            "25m",
            [fired("WorkflowFailureRateRising", workflow="orders.fulfillment", **warning)],
        ),
        rule_test(workers, "WorkerVanished", "4m", []),
        rule_test(workers, "WorkerVanished", "6m", [fired("WorkerVanished", **critical)]),
        rule_test(compensation, "CompensationFailed", "2m", []),
        rule_test(
            compensation,
            "CompensationFailed",
            "4m",
            [fired("CompensationFailed", workflow="orders.fulfillment", **critical)],
        ),
    ]
    tests_file = tmp_path / "alerts_test.yml"
    tests_file.write_text(
        yaml.safe_dump({"rule_files": [str(ALERTS)], "evaluation_interval": "1m", "tests": tests})
    )

    result = promtool("test", "rules", str(tests_file))

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_dashboard_shows_what_an_operator_watches():
    dashboard = json.loads(DASHBOARD.read_text())
    queries = " ".join(
        target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])
    )

    for metric in (
        "events_handled_total",  # throughput
        "events_delivery_duration_seconds_bucket",  # latency percentiles
        "django_http_requests_latency_seconds_by_view_method_bucket",
        "events_outbox_lag_seconds",
        "events_dead_letters_open",
        "events_workflows_finished_total",  # workflow outcomes
        'django_http_responses_total_by_status_total{status=~"5.."}',  # HTTP errors
    ):
        assert metric in queries, metric
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "prometheus", panel["title"]
