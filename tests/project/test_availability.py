"""503 while the database cannot be reached: which errors mean it, what is answered, recovery.

The default connection is swapped for one to a database that cannot be opened (a folder
for SQLite, a database that does not exist on PostgreSQL): real connection failures, in
this process. tests/integration/test_database_outage.py does the same to a live server.
"""

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections
from django.db.utils import load_backend
from django.http import HttpRequest, HttpResponse
from django.test import Client
from rest_framework.test import APIClient

from project.availability import (
    DATABASE_UNAVAILABLE,
    RETRY_AFTER_SECONDS,
    database_unreachable,
)
from tests.factories import order_body

ERROR_BODY = {"detail": DATABASE_UNAVAILABLE, "code": "database_unavailable", "errors": {}}


class Outage:
    """This thread's default connection, swapped for one to a database it cannot open."""

    def __init__(self, tmp_path: Path) -> None:
        self.original = connections[DEFAULT_DB_ALIAS]
        settings_dict = dict(self.original.settings_dict)
        if self.original.vendor == "sqlite":
            settings_dict["NAME"] = str(tmp_path)  # a folder: SQLite cannot open it
        else:
            settings_dict["NAME"] = f"unreachable_{uuid.uuid4().hex[:8]}"  # no such database
        self.connection = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict)
        connections[DEFAULT_DB_ALIAS] = self.connection

    def end(self) -> None:
        """The database is back: the same connection object now reaches it."""
        self.connection.settings_dict["NAME"] = self.original.settings_dict["NAME"]

    def restore(self) -> None:
        self.connection.close()
        connections[DEFAULT_DB_ALIAS] = self.original


@pytest.fixture
def unreachable_database(tmp_path: Path) -> Iterator[Outage]:
    outage = Outage(tmp_path)
    try:
        yield outage
    finally:
        outage.restore()


def assert_unavailable(response: HttpResponse) -> None:
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)


@pytest.mark.django_db
def test_the_api_answers_503_with_retry_after_and_its_error_body(unreachable_database):
    client = APIClient(HTTP_AUTHORIZATION="Token 0123456789abcdef")  # looked up: needs the DB

    for response in (
        client.get("/api/orders/"),
        client.post("/api/orders/", order_body(("MUG-LOGO", 1)), format="json"),
    ):
        assert_unavailable(response)
        assert response["Content-Type"] == "application/json"
        assert response.json() == ERROR_BODY


@pytest.mark.django_db
def test_the_admin_answers_a_plain_503_page_never_a_traceback(unreachable_database, settings):
    settings.DEBUG = True  # where a 500 would show Django's traceback page
    client = Client(HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    client.cookies["sessionid"] = "a-session-to-look-up"

    response = client.get("/admin/")

    assert_unavailable(response)
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "Service unavailable" in page
    assert "Traceback" not in page


@pytest.mark.django_db(transaction=True)
def test_the_same_process_serves_again_once_the_database_is_back(
    customer_client, catalog, unreachable_database
):
    client = customer_client  # its token was written before the outage
    assert_unavailable(client.get("/api/orders/"))
    assert unreachable_database.connection.connection is None  # nothing broken kept for later

    unreachable_database.end()

    assert client.get("/api/orders/").status_code == 200
    placed = client.post("/api/orders/", order_body(("MUG-LOGO", 1)), format="json")
    assert placed.status_code == 201, placed.content


class QueryingMiddleware:
    """Touches the database outside the view, as a session saved on the way out does."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        get_user_model().objects.exists()
        return self.get_response(request)


@pytest.mark.django_db
def test_a_middleware_that_meets_the_lost_database_answers_503_too(unreachable_database, settings):
    settings.DEBUG = True
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.QueryingMiddleware"]

    response = Client(raise_request_exception=False).get("/healthz")

    assert_unavailable(response)
    assert response.json() == ERROR_BODY


@pytest.mark.django_db
def test_readyz_names_the_database_as_down_and_answers_503(unreachable_database):
    response = APIClient().get("/readyz")

    assert_unavailable(response)
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"]["status"] == "down"
    assert body["database"]["error"]
    assert body["broker"] == {"status": "ok"}


@pytest.mark.django_db
def test_a_failed_connection_is_unreachable(unreachable_database):
    with pytest.raises(OperationalError) as failure:
        unreachable_database.connection.ensure_connection()

    assert database_unreachable(failure.value)


@pytest.mark.django_db
def test_errors_from_a_database_that_answers_are_not_unreachable():
    connection.ensure_connection()

    assert not database_unreachable(OperationalError("database is locked"))
    assert not database_unreachable(ValueError("not a database error"))
