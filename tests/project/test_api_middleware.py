"""Every answer under /api/ is JSON; a 500 shows no debug page to anyone but staff."""

import pytest
from django.test import Client

from project.api_middleware import NUL_IN_URL
from project.debug import PLAIN_ERROR

pytestmark = pytest.mark.urls("tests.project.urls")


def error_of(response) -> dict:  # type: ignore[no-untyped-def]
    assert response["Content-Type"].startswith("application/json"), response.content[:500]
    body = response.json()
    assert set(body) == {"detail", "code", "errors"}
    return body


@pytest.mark.parametrize("path", ["/api/nowhere/", "/api/orders/not-a-number/", "/api/x"])
def test_an_unrouted_path_under_api_is_a_404_in_json(db, path, settings):
    settings.DEBUG = True  # Django's own 404 page would be the technical one

    response = Client().get(path)

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_a_body_announced_too_large_is_a_413_in_json_before_anything_reads_it(db, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100

    response = Client().post("/api/payments/callback/", "x" * 101, content_type="application/json")

    assert response.status_code == 413
    assert error_of(response)["code"] == "request_too_large"


@pytest.mark.parametrize("query", ["?status=%00", "?x%00=1"])
def test_a_nul_character_in_the_url_is_a_400_that_says_so(customer_client, query):
    response = customer_client.get(f"/api/orders/{query}")

    assert response.status_code == 400
    assert error_of(response)["detail"] == NUL_IN_URL


def test_a_nul_character_in_the_path_is_a_400(customer_client):
    response = customer_client.get("/api/products/MUG%00/")

    assert response.status_code == 400
    assert error_of(response)["detail"] == NUL_IN_URL


@pytest.mark.parametrize("debug", [False, True])
def test_a_server_error_under_api_is_json_without_details(db, settings, debug):
    settings.DEBUG = debug

    response = Client(raise_request_exception=False).get("/api/crash/")

    assert response.status_code == 500
    assert error_of(response)["code"] == "server_error"
    assert b"shown-only-to-staff" not in response.content


@pytest.mark.parametrize("accept", ["text/html", "text/plain"])
def test_with_debug_on_an_anonymous_caller_gets_no_debug_page(db, settings, accept):
    settings.DEBUG = True

    response = Client(raise_request_exception=False).get("/crash/", HTTP_ACCEPT=accept)

    assert response.status_code == 500
    assert PLAIN_ERROR.encode() in response.content
    assert b"shown-only-to-staff" not in response.content
    assert b"SECRET_KEY" not in response.content


def test_with_debug_on_a_customer_signed_in_gets_no_debug_page(customer, settings):
    settings.DEBUG = True
    client = Client(raise_request_exception=False)
    client.force_login(customer)

    response = client.get("/crash/")

    assert response.status_code == 500
    assert b"shown-only-to-staff" not in response.content


def test_with_debug_on_staff_browsing_keep_the_debug_page(staff, settings):
    settings.DEBUG = True
    client = Client(raise_request_exception=False)
    client.force_login(staff)

    response = client.get("/crash/", HTTP_ACCEPT="text/html")

    assert response.status_code == 500
    assert b"shown-only-to-staff" in response.content
    assert b"SecretError" in response.content


def test_the_browsable_api_keeps_its_page_for_a_browser_and_json_for_a_client(db):
    browser = Client().get("/api/orders/", HTTP_ACCEPT="text/html")
    program = Client().get("/api/orders/", HTTP_ACCEPT="application/json")

    assert browser.status_code == program.status_code == 401
    assert browser["Content-Type"].startswith("text/html")
    assert error_of(program)["code"] == "not_authenticated"
