"""Request bodies: JSON only, bounded in size and depth, with strings the database keeps."""

import pytest

from project.parsers import MAX_DEPTH, NUL_CHARACTER, TOO_DEEP, nesting_depth
from tests.factories import order_body

URL = "/api/orders/"


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 100_000])
def test_json_nested_too_deep_is_a_400_not_a_recursion_error(customer_client, catalog, depth):
    body = "[" * depth + "]" * depth

    response = customer_client.post(URL, body, content_type="application/json")

    assert response.status_code == 400, response.content
    assert response.json()["detail"] == TOO_DEEP


def test_json_as_deep_as_allowed_reaches_the_serializer(customer_client, catalog):
    body = '{"lines": ' + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "}"

    response = customer_client.post(URL, body, content_type="application/json")

    assert response.status_code == 400
    assert "lines" in response.json()["errors"]


def test_brackets_inside_strings_do_not_count_as_nesting():
    assert nesting_depth('{"a": "[[[[{{{{\\"]]]", "b": [1, [2]]}') == 3


def test_a_nul_character_in_any_string_of_the_body_is_a_400_that_says_so(customer_client, catalog):
    body = order_body(("MUG-LOGO", 1))
    body["lines"][0]["sku"] = "MUG\x00LOGO"

    response = customer_client.post(URL, body, format="json")

    assert response.status_code == 400
    assert response.json()["detail"] == NUL_CHARACTER


def test_a_body_larger_than_the_limit_is_a_413_in_json(customer_client, catalog, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = order_body(("MUG-LOGO", 1))
    body["padding"] = "x" * 2000

    response = customer_client.post(URL, body, format="json")

    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_a_body_that_is_not_json_is_refused_even_as_a_form(customer_client, catalog):
    response = customer_client.post(URL, {"payment_token": "tok_ok"}, format="multipart")

    assert response.status_code == 400
    assert response.json()["code"] == "unsupported_media_type"
