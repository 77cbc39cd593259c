"""Smoke: the system as ``make run`` starts it, its pages in headless Chromium."""

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from playwright.sync_api import Browser, BrowserContext, Page, expect

from .conftest import FLOWER_PASSWORD, FLOWER_USER, System

pytestmark = pytest.mark.browser

# A test artifact, kept out of the tree (docs/screenshots/ holds the published ones).
SCREENSHOT = Path(settings.VAR_DIR) / "screenshots" / "admin-order.png"
LOCAL_HOSTS = {"127.0.0.1"}


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context()
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.fixture
def server_errors(context: BrowserContext) -> list[str]:
    """Every response of 500 or more the browser saw in this test."""
    errors: list[str] = []
    context.on(
        "response",
        lambda response: (
            errors.append(f"{response.status} {response.url}") if response.status >= 500 else None
        ),
    )
    return errors


def admin_login(page: Page, system: System) -> None:
    page.goto(f"{system.web_url}/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "admin")
    with page.expect_navigation():
        page.click("input[type=submit]")
    expect(page).to_have_url(f"{system.web_url}/admin/")


def api(system: System, method: str, path: str, body: dict | None = None, token: str = "") -> dict:
    request = urllib.request.Request(
        f"{system.web_url}{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    if token:
        request.add_header("Authorization", f"Token {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)
    except urllib.error.HTTPError as exc:
        raise AssertionError(
            f"{method} {path} answered {exc.code}: {exc.read()[:2000]!r}"
        ) from None


def flower_page_until(page: Page, url: str, selector: str, text: str, timeout: float) -> None:
    """Load a Flower page again until ``selector`` shows ``text`` (Flower learns from events)."""
    deadline = time.monotonic() + timeout
    while True:
        response = page.goto(url)
        assert response is not None and response.status == 200, f"{url}: {response}"
        try:
            expect(page.locator(selector)).to_contain_text(text, timeout=3_000)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise


def test_the_admin_logs_in_and_lists_orders_without_a_server_error(
    system: System, context: BrowserContext, server_errors: list[str]
) -> None:
    page = context.new_page()
    admin_login(page, system)

    captions = page.locator("#content-main caption")
    expect(captions.filter(has_text="Orders")).to_have_count(1)
    expect(captions.filter(has_text="Events and workflows")).to_have_count(1)

    response = page.goto(f"{system.web_url}/admin/orders/order/")
    assert response is not None and response.status == 200, response
    expect(page.locator("#changelist")).to_be_visible()
    expect(page.locator("h1")).to_contain_text("order")
    assert server_errors == []


def test_the_api_docs_render_from_the_projects_own_static_files(
    system: System, context: BrowserContext, server_errors: list[str]
) -> None:
    page = context.new_page()
    hosts: list[str] = []
    page.on("request", lambda request: hosts.append(urlsplit(request.url).hostname or ""))

    response = page.goto(f"{system.web_url}/api/docs/")
    assert response is not None and response.status == 200, response
    expect(page.locator(".swagger-ui .info")).to_contain_text("Order fulfillment API")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    page.wait_for_load_state("networkidle")

    assert hosts, "the browser made no requests"
    assert set(hosts) <= LOCAL_HOSTS, f"requests left the machine: {sorted(set(hosts))}"
    assert server_errors == []


def test_flower_asks_for_credentials_and_then_shows_the_worker(
    system: System, browser: Browser
) -> None:
    with pytest.raises(urllib.error.HTTPError) as anonymous:
        urllib.request.urlopen(f"{system.flower_url}/", timeout=10)
    assert anonymous.value.code == 401

    context = browser.new_context(
        http_credentials={"username": FLOWER_USER, "password": FLOWER_PASSWORD}
    )
    try:
        page = context.new_page()
        flower_page_until(
            page, f"{system.flower_url}/", "#workers-table tbody", "worker@", timeout=30
        )
        expect(page).to_have_title("Workers · Flower")
    finally:
        context.close()


def test_an_order_placed_through_the_api_is_fulfilled_and_seen_in_admin_and_flower(
    system: System, browser: Browser, context: BrowserContext, server_errors: list[str]
) -> None:
    token = api(system, "POST", "/api/auth/token/", {"username": "alice", "password": "alice"})[
        "token"
    ]
    order = api(
        system,
        "POST",
        "/api/orders/",
        {"lines": [{"sku": "MUG-LOGO", "quantity": 1}], "payment_token": "tok_ok"},
        token=token,
    )
    order_id = order["id"]

    statuses: list[str] = []

    def fulfilled() -> bool:
        status = api(system, "GET", f"/api/orders/{order_id}/", token=token)["status"]
        if not statuses or statuses[-1] != status:
            statuses.append(status)
        return status == "fulfilled"

    try:
        system.wait_until(fulfilled, timeout=30, message=f"order {order_id} to be fulfilled")
    except AssertionError as exc:
        raise AssertionError(f"statuses seen: {statuses}\n{exc}") from None

    page = context.new_page()
    admin_login(page, system)
    response = page.goto(f"{system.web_url}/admin/orders/order/{order_id}/change/")
    assert response is not None and response.status == 200, response
    expect(page.locator(".field-status")).to_contain_text("Fulfilled")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert server_errors == []

    flower = browser.new_context(
        http_credentials={"username": FLOWER_USER, "password": FLOWER_PASSWORD}
    )
    try:
        flower_page_until(
            flower.new_page(),
            f"{system.flower_url}/tasks?name=orders.charge_payment",
            "#tasks-table tbody",
            "orders.charge_payment",
            timeout=30,
        )
    finally:
        flower.close()
