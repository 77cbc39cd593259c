"""Who may read the metrics: allowed networks, then the bearer token once one is set."""

import io

import pytest
from rest_framework.test import APIClient

from project.metrics import exporter_app

pytestmark = pytest.mark.django_db

TOKEN = "scrape-secret"


def scrape(remote_addr: str, **headers: str):  # type: ignore[no-untyped-def]
    return APIClient().get("/metrics", REMOTE_ADDR=remote_addr, **headers)


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "::1", "10.1.2.3", "172.18.0.5", "192.168.1.20", "fd00::5"]
)
def test_loopback_and_private_networks_may_read_the_metrics_by_default(address):
    response = scrape(address)

    assert response.status_code == 200, address
    assert b"events_outbox_pending" in response.content


@pytest.mark.parametrize("address", ["8.8.8.8", "172.32.0.1", "2001:4860::8888", "not-an-ip"])
def test_other_addresses_are_refused(address):
    response = scrape(address)

    assert response.status_code == 403, address
    assert b"METRICS_ALLOWED_NETWORKS" in response.content
    assert b"events_" not in response.content


def test_the_allowed_networks_come_from_the_setting(settings):
    settings.METRICS_ALLOWED_NETWORKS = ["203.0.113.0/24"]

    assert scrape("203.0.113.7").status_code == 200
    assert scrape("127.0.0.1").status_code == 403


def test_with_a_token_set_a_scraper_must_send_it(settings):
    settings.METRICS_TOKEN = TOKEN

    missing = scrape("127.0.0.1")
    wrong = scrape("127.0.0.1", HTTP_AUTHORIZATION="Bearer guessed")
    right = scrape("127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert missing.status_code == wrong.status_code == 401
    assert missing["WWW-Authenticate"] == "Bearer"
    assert b"events_" not in wrong.content
    assert right.status_code == 200
    assert b"events_outbox_pending" in right.content


def test_the_token_does_not_open_the_metrics_to_other_networks(settings):
    settings.METRICS_TOKEN = TOKEN

    assert scrape("8.8.8.8", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 403


def test_http_requests_are_counted_by_django_prometheus():
    scrape("127.0.0.1")

    body = scrape("127.0.0.1").content.decode()

    assert 'django_http_responses_total_by_status_total{status="200"}' in body


def call_exporter(remote_addr: str, path: str = "/metrics", authorization: str = ""):  # type: ignore[no-untyped-def]
    answer: dict = {}

    def start_response(status: str, headers: list) -> None:
        answer.update(status=status, headers=dict(headers))

    environ = {
        "REMOTE_ADDR": remote_addr,
        "PATH_INFO": path,
        "HTTP_AUTHORIZATION": authorization,
        "wsgi.input": io.BytesIO(),
    }
    body = b"".join(exporter_app(environ, start_response))
    return answer["status"], answer["headers"], body


def test_the_exporter_of_workers_serves_counters_but_not_the_table_gauges():
    status, headers, body = call_exporter("10.0.0.9")

    assert status == "200 OK"
    assert headers["Content-Type"].startswith("text/plain")
    assert b"events_handled_total" in body
    assert b"events_outbox_pending" not in body  # the web process serves those


def test_the_exporter_of_workers_applies_the_same_rule(settings):
    settings.METRICS_TOKEN = TOKEN

    assert call_exporter("8.8.8.8", authorization=f"Bearer {TOKEN}")[0] == "403 Forbidden"
    status, headers, body = call_exporter("127.0.0.1")
    assert status == "401 Unauthorized"
    assert headers["WWW-Authenticate"] == "Bearer"
    assert b"events_" not in body
    assert call_exporter("127.0.0.1", authorization=f"Bearer {TOKEN}")[0] == "200 OK"
    assert call_exporter("127.0.0.1", path="/other")[0] == "404 Not Found"
