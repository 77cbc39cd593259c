"""The OpenAPI schema lists every answer of every operation, and the server's limits."""

import pytest

from project.schema import ERROR_DESCRIPTIONS


@pytest.fixture
def schema(client, db) -> dict:  # type: ignore[no-untyped-def]
    return client.get("/api/schema/?format=json").json()


def operations(schema: dict):  # type: ignore[no-untyped-def]
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def test_every_operation_documents_its_errors_with_the_one_error_body(schema):
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for method, path, operation in operations(schema):
        responses = operation["responses"]
        assert {"400", "503"} <= set(responses), (method, path)
        if "{" in path:
            assert "404" in responses, (method, path)
        if "requestBody" in operation:
            assert "413" in responses, (method, path)
        for status, response in responses.items():
            if int(status) >= 400:
                assert response["content"] == error, (method, path, status)
    assert set(schema["components"]["schemas"]["Error"]["required"]) == {
        "detail",
        "code",
        "errors",
    }
    assert set(ERROR_DESCRIPTIONS) >= {400, 401, 403, 404, 413, 503}


def test_who_may_call_is_in_the_schema(schema):
    assert {} in schema["paths"]["/api/products/"]["get"]["security"]
    assert "401" in schema["paths"]["/api/orders/"]["get"]["responses"]
    assert "403" in schema["paths"]["/api/workflows/"]["get"]["responses"]
    assert "403" not in schema["paths"]["/api/products/"]["get"]["responses"]
    assert "409" in schema["paths"]["/api/orders/{order_id}/cancel/"]["post"]["responses"]


def test_each_operation_has_a_request_component_of_its_own(schema):
    requests: dict[str, list] = {}
    for method, path, operation in operations(schema):
        content = operation.get("requestBody", {}).get("content", {})
        ref = content.get("application/json", {}).get("schema", {}).get("$ref")
        if ref:
            requests.setdefault(ref, []).append((method, path))
    shared = {
        ref: users
        for ref, users in requests.items()
        if len({path.split("{")[0] for _, path in users}) > 1
    }
    assert shared == {}
    names = {ref.rsplit("/", 1)[1] for ref in requests}
    assert {
        "OrderListInputRequest",
        "PaymentCallbackInputRequest",
        "OrderReturnInputRequest",
    } <= names


def test_the_servers_limits_are_in_the_schema(schema):
    components = schema["components"]["schemas"]
    order = components["OrderListInputRequest"]["properties"]
    line = components["OrderLineInputRequest"]["properties"]
    product = components["ProductRequest"]["properties"]

    assert (order["lines"]["minItems"], order["lines"]["maxItems"]) == (1, 50)
    assert (line["quantity"]["minimum"], line["quantity"]["maximum"]) == (1, 1000)
    assert line["sku"]["maxLength"] == 64
    assert product["price"]["pattern"] == r"^\d{1,8}(?:\.\d{1,2})?$"
    assert product["sku"]["pattern"] == "^[A-Za-z0-9_-]+$"
    assert product["stock"]["minimum"] == 0
    assert components["PaymentCallbackInputRequest"]["properties"]["reason"]["maxLength"] == 200
