"""The database unreachable under a live web process: 503 with Retry-After, then recovery.

On PostgreSQL the test database refuses new connections and its sessions are ended (the
shared server stays up); the web process is gunicorn, holding a persistent connection.
On the embedded default the SQLite file cannot be opened; the web process is runserver,
which opens it for each request. See ``WebServer`` and ``database_outage`` in
tests/processes.py.
"""

from collections.abc import Iterator

import httpx
import pytest
from django.db import connection
from django.test import Client
from rest_framework.authtoken.models import Token

from project.availability import DATABASE_UNAVAILABLE, RETRY_AFTER_SECONDS
from tests.factories import order_body
from tests.processes import WebServer, database_outage, database_sessions_ended

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ERROR_BODY = {"detail": DATABASE_UNAVAILABLE, "code": "database_unavailable", "errors": {}}
# One HTTP connection per request: runserver serves a kept-alive connection on one thread,
# whose SQLite connection, opened before the outage, would keep the file it has.
CLOSE = {"Connection": "close"}
BROWSER = {**CLOSE, "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.fixture
def web(django_db_setup, django_db_blocker) -> Iterator[WebServer]:  # type: ignore[no-untyped-def]
    """A live web process with DEBUG on: where a 500 would be Django's traceback page."""
    with django_db_blocker.unblock():
        server = WebServer(env={"DJANGO_DEBUG": "true"}).start()
    yield server
    server.stop()


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text[:2000]
    assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert "Traceback" not in response.text


def test_while_the_database_is_unreachable_requests_answer_503_and_the_process_recovers(
    web, customer, staff, catalog
):
    token = Token.objects.create(user=customer).key
    api = httpx.Client(
        base_url=web.url, headers={**CLOSE, "Authorization": f"Token {token}"}, timeout=10
    )
    admin = Client()
    admin.force_login(staff)
    session = {"sessionid": admin.cookies["sessionid"].value}
    assert api.get("/api/orders/").status_code == 200  # connected before the outage

    with database_outage():
        placed = api.post("/api/orders/", json=order_body(("MUG-LOGO", 1)))
        listed = api.get("/api/orders/")
        for response in (placed, listed):
            assert_unavailable(response)
            assert response.headers["Content-Type"] == "application/json"
            assert response.json() == ERROR_BODY

        page = httpx.get(f"{web.url}/admin/", headers=BROWSER, cookies=session, timeout=10)
        assert_unavailable(page)
        assert page.headers["Content-Type"].startswith("text/html")

        ready = httpx.get(f"{web.url}/readyz", headers=CLOSE, timeout=10)
        assert_unavailable(ready)
        assert ready.json()["database"]["status"] == "down"
        assert ready.json()["broker"] == {"status": "ok"}
        assert (
            httpx.get(f"{web.url}/healthz", headers=CLOSE, timeout=10).status_code == 200
        )  # alive

    placed = api.post("/api/orders/", json=order_body(("MUG-LOGO", 1)))
    assert placed.status_code == 201, placed.text[:2000]
    listed = api.get("/api/orders/")
    assert listed.status_code == 200
    assert placed.json()["id"] in [order["id"] for order in listed.json()["results"]]
    assert httpx.get(f"{web.url}/readyz", headers=CLOSE, timeout=10).status_code == 200
    web.assert_running()  # the same process, never restarted


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="an embedded SQLite database has no sessions to end"
)
def test_a_database_restart_between_two_requests_goes_unnoticed(web, customer):
    # The worker's persistent connection is dead when the next request comes: the health
    # check (CONN_HEALTH_CHECKS) finds it so before use, and a new one is opened.
    token = Token.objects.create(user=customer).key
    api = httpx.Client(
        base_url=web.url, headers={**CLOSE, "Authorization": f"Token {token}"}, timeout=10
    )
    assert api.get("/api/orders/").status_code == 200

    database_sessions_ended()

    response = api.get("/api/orders/")
    assert response.status_code == 200, response.text[:2000]
    web.assert_running()
