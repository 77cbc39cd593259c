"""The order API at its edges: bad input, authentication, who may see what."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from events.envelope import Envelope
from events.models import Event, OutboxEvent, WorkflowRun
from orders.conf import orders_settings
from orders.models import Order, Product
from orders.subscribers import start_fulfillment
from tests.factories import CATALOG, order_body

pytestmark = pytest.mark.django_db

MAX_QUANTITY = orders_settings.MAX_QUANTITY
MAX_LINES = orders_settings.MAX_LINES


def line(sku: str = "MUG-LOGO", quantity: object = 1) -> dict:
    return {"sku": sku, "quantity": quantity}


def body(*lines: dict, token: str = "tok_ok") -> dict:
    return {"lines": list(lines), "payment_token": token}


def error_at(errors: object, path: tuple) -> object:
    """The error at ``path``; line errors are keyed by the line's index ("0", "1" ...)."""
    for key in path:
        errors = errors[key]  # type: ignore[index]
    return errors


def assert_nothing_written() -> None:
    assert Order.objects.count() == 0
    assert Event.objects.count() == 0
    assert OutboxEvent.objects.count() == 0


BAD_BODIES = {
    "quantity zero": (body(line(quantity=0)), ("lines", "0", "quantity"), "min_value"),
    "negative quantity": (body(line(quantity=-2)), ("lines", "0", "quantity"), "min_value"),
    "quantity above the maximum": (
        body(line(quantity=MAX_QUANTITY + 1)),
        ("lines", "0", "quantity"),
        "max_value",
    ),
    "quantity as a string": (body(line(quantity="3")), ("lines", "0", "quantity"), "invalid"),
    "fractional quantity": (body(line(quantity=1.5)), ("lines", "0", "quantity"), "invalid"),
    "boolean quantity": (body(line(quantity=True)), ("lines", "0", "quantity"), "invalid"),
    "bad quantity on the second line": (
        body(line("MUG-LOGO", 1), line("CAP-NAVY", 0)),
        ("lines", "1", "quantity"),
        "min_value",
    ),
    "line without a sku": (
        {"lines": [{"quantity": 1}], "payment_token": "tok_ok"},
        ("lines", "0", "sku"),
        "required",
    ),
    "empty lines": (body(), ("lines",), "empty"),
    "lines missing": ({"payment_token": "tok_ok"}, ("lines",), "required"),
    "lines not a list": (
        {"lines": "MUG-LOGO", "payment_token": "tok_ok"},
        ("lines",),
        "not_a_list",
    ),
    "duplicate skus": (body(line("MUG-LOGO", 1), line("MUG-LOGO", 2)), ("lines",), "invalid"),
    "too many lines": (
        body(*[line(f"SKU-{n}", 1) for n in range(MAX_LINES + 1)]),
        ("lines",),
        "max_length",
    ),
    "payment token missing": ({"lines": [line()]}, ("payment_token",), "required"),
    "unknown payment token": (
        body(line(), token="tok_stolen"),
        ("payment_token",),
        "invalid_choice",
    ),
    "unknown sku": (body(line("NO-SUCH-SKU", 1)), ("lines", "0", "sku"), "invalid"),
}


@pytest.mark.parametrize(
    ("payload", "error_path", "code"), BAD_BODIES.values(), ids=list(BAD_BODIES)
)
def test_a_bad_order_body_is_answered_with_400_and_the_field_error(
    customer_client, catalog, payload, error_path, code
):
    response = customer_client.post("/api/orders/", payload, format="json")

    assert response.status_code == 400, response.content
    data = response.json()
    assert set(data) == {"detail", "code", "errors"}
    assert isinstance(data["detail"], str) and data["detail"]
    assert data["code"] == code
    assert list(data["errors"]) == [error_path[0]]
    assert error_at(data["errors"], error_path), data["errors"]
    assert_nothing_written()


def test_an_unknown_sku_is_named_in_the_error(customer_client, catalog):
    response = customer_client.post(
        "/api/orders/", body(line("MUG-LOGO", 1), line("NO-SUCH-SKU", 1)), format="json"
    )

    assert response.status_code == 400, response.content
    assert "NO-SUCH-SKU" in str(response.json()["errors"])
    assert_nothing_written()


def test_malformed_json_is_answered_with_400(customer_client, catalog):
    response = customer_client.post("/api/orders/", data="{bad", content_type="application/json")

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "parse_error"
    assert response.json()["errors"] == {}
    assert_nothing_written()


def test_a_body_that_is_not_json_is_answered_with_400_not_415(customer_client, catalog):
    response = customer_client.post(
        "/api/orders/", data="MUG-LOGO x1 tok_ok", content_type="text/plain"
    )

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "unsupported_media_type"
    assert "application/json" in response.json()["detail"]
    assert_nothing_written()


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/orders/"), ("post", "/api/orders/"), ("get", "/api/notifications/")],
)
def test_a_request_without_a_token_is_answered_with_401(catalog, method, path):
    response = getattr(APIClient(), method)(path, order_body(("MUG-LOGO", 1)), format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert_nothing_written()


@pytest.fixture
def customers_order(customer_client, customer, catalog) -> int:
    """An order of the customer whose fulfillment run exists (started without a worker)."""
    response = customer_client.post("/api/orders/", order_body(("MUG-LOGO", 1)), format="json")
    assert response.status_code == 201, response.content
    order_id = response.json()["id"]
    start_fulfillment(Envelope.from_event(Event.objects.get(aggregate_id=str(order_id))))
    assert WorkflowRun.objects.filter(subject_id=str(order_id)).exists()
    return order_id


@pytest.mark.parametrize("suffix", ["", "events/", "workflow/"])
def test_a_customer_cannot_read_another_customers_order(
    customer_client, other_client, customers_order, suffix
):
    path = f"/api/orders/{customers_order}/{suffix}"

    assert customer_client.get(path).status_code == 200
    response = other_client.get(path)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_customer_cannot_cancel_another_customers_order(other_client, customers_order):
    response = other_client.post(f"/api/orders/{customers_order}/cancel/")

    assert response.status_code == 404
    assert Order.objects.get(pk=customers_order).status == Order.Status.PENDING
    assert not Event.objects.filter(type="order.cancelled").exists()


def test_a_customer_lists_only_their_own_orders_and_staff_list_all(
    customer_client, other_client, staff_client, catalog
):
    mine = customer_client.post("/api/orders/", order_body(("MUG-LOGO", 1)), format="json")
    theirs = other_client.post("/api/orders/", order_body(("CAP-NAVY", 1)), format="json")
    mine_id, theirs_id = mine.json()["id"], theirs.json()["id"]

    def listed(client: APIClient) -> set[int]:
        response = client.get("/api/orders/")
        assert response.status_code == 200
        return {order["id"] for order in response.json()["results"]}

    assert listed(customer_client) == {mine_id}
    assert listed(other_client) == {theirs_id}
    assert listed(staff_client) == {mine_id, theirs_id}
    assert staff_client.get(f"/api/orders/{mine_id}/").status_code == 200


def test_anyone_can_list_the_products_with_sku_name_price_and_stock(catalog):
    response = APIClient().get("/api/products/")

    assert response.status_code == 200
    listed = {p["sku"]: p for p in response.json()["results"]}
    assert listed == {
        sku: {"sku": sku, "name": name, "price": price, "stock": stock}
        for sku, (name, price, stock) in CATALOG.items()
    }


NEW_PRODUCT = {"sku": "SOCKS-RED", "name": "Socks, red", "price": "7.50", "stock": 20}


def test_a_customer_cannot_create_a_product(customer_client, catalog):
    response = customer_client.post("/api/products/", NEW_PRODUCT, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert not Product.objects.filter(sku="SOCKS-RED").exists()


def test_staff_can_create_a_product(staff_client, catalog):
    response = staff_client.post("/api/products/", NEW_PRODUCT, format="json")

    assert response.status_code == 201, response.content
    product = Product.objects.get(sku="SOCKS-RED")
    assert (product.name, product.price, product.stock) == ("Socks, red", Decimal("7.50"), 20)
