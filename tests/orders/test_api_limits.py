"""What the order API cannot store it refuses with a 400 that says so; nothing is cut."""

import pytest

from orders import gateway
from orders.api import IDEMPOTENCY_KEY_INVALID, SKU_CHARACTERS
from orders.models import Order, Product
from tests.factories import order_body

CALLBACK = "/api/payments/callback/"


@pytest.mark.parametrize(
    "signature", ["sha256=é", "ü" * 10, "sha256=" + "a" * 100_000, "\u2603", "sha256=\x7f"]
)
def test_any_signature_header_value_is_refused_with_403_never_a_500(db, client, signature):
    body = gateway.callback_body(charge_id="ch_x", succeeded=True)

    response = client.post(
        CALLBACK, body, content_type="application/json", HTTP_X_GATEWAY_SIGNATURE=signature
    )

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_the_signature_check_answers_false_for_non_ascii_instead_of_raising():
    assert gateway.signature_valid(b"{}", "sha256=\u00e9\u00e9") is False
    assert gateway.signature_valid(b"{}", gateway.sign(b"{}")) is True


@pytest.mark.parametrize("key", ["k" * 256, "caf\u00e9", "tab\there", ""])
def test_an_idempotency_key_that_cannot_be_stored_as_given_is_refused(
    customer_client, catalog, key
):
    response = customer_client.post(
        "/api/orders/", order_body(("MUG-LOGO", 1)), format="json", HTTP_IDEMPOTENCY_KEY=key
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"Idempotency-Key": [IDEMPOTENCY_KEY_INVALID]}
    assert not Order.objects.exists()


def test_the_longest_idempotency_key_is_kept_whole(customer_client, catalog):
    key = "k" * 255
    first = customer_client.post(
        "/api/orders/", order_body(("MUG-LOGO", 1)), format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    again = customer_client.post(
        "/api/orders/", order_body(("MUG-LOGO", 1)), format="json", HTTP_IDEMPOTENCY_KEY=key
    )

    assert first.status_code == again.status_code == 201
    assert Order.objects.get().idempotency_key == key


@pytest.mark.parametrize("sku", ["A/B", "A.B", "A B", "caf\u00e9"])
def test_a_sku_the_url_cannot_carry_is_refused(staff_client, db, sku):
    body = {"sku": sku, "name": "Thing", "price": "1.00", "stock": 1}

    response = staff_client.post("/api/products/", body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"]["sku"] == [SKU_CHARACTERS]
    assert not Product.objects.exists()


def test_a_sku_that_is_taken_is_a_409(staff_client, catalog):
    body = {"sku": "MUG-LOGO", "name": "Another mug", "price": "1.00", "stock": 1}

    response = staff_client.post("/api/products/", body, format="json")

    assert response.status_code == 409
    assert set(response.json()["errors"]) == {"sku"}


@pytest.mark.parametrize(
    ("field", "value"),
    [("price", "-1.00"), ("price", 1.5), ("price", "1e3"), ("name", 7), ("stock", "3")],
)
def test_product_values_of_another_type_or_out_of_range_are_refused(staff_client, db, field, value):
    body = {"sku": "NEW", "name": "Thing", "price": "1.00", "stock": 1, field: value}

    response = staff_client.post("/api/products/", body, format="json")

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {field}
