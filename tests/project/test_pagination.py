"""Pagination parameters are checked: out of range or unreadable is a 400, never a 500."""

import pytest

from project.pagination import MAX_LIMIT, MAX_OFFSET

URL = "/api/products/"


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        (f"limit={2**63}", "limit"),
        (f"offset={2**63}", "offset"),
        (f"offset={2**64 + 1}&limit=1", "offset"),
        ("limit=0", "limit"),
        ("limit=-1", "limit"),
        (f"limit={MAX_LIMIT + 1}", "limit"),
        (f"offset={MAX_OFFSET + 1}", "offset"),
        ("offset=-1", "offset"),
        ("limit=1.5", "limit"),
        ("limit=1_0", "limit"),
        ("limit=%201", "limit"),
        ("limit=ten", "limit"),
        ("limit=", "limit"),
        ("limit=1&limit=2", "limit"),
    ],
)
def test_a_pagination_parameter_out_of_range_is_a_400_naming_it(
    customer_client, catalog, query, parameter
):
    response = customer_client.get(f"{URL}?{query}")

    assert response.status_code == 400, response.content
    assert set(response.json()["errors"]) == {parameter}


def test_limit_and_offset_in_range_page_through_the_list(customer_client, catalog):
    first = customer_client.get(f"{URL}?limit=2").json()
    rest = customer_client.get(f"{URL}?limit={MAX_LIMIT}&offset=2").json()
    beyond = customer_client.get(f"{URL}?offset={MAX_OFFSET}").json()

    assert first["count"] == len(catalog) and len(first["results"]) == 2
    assert [p["sku"] for p in first["results"] + rest["results"]] == sorted(catalog)
    assert beyond["results"] == []


def test_every_paginated_list_and_its_limits_are_in_the_schema(customer_client):
    schema = customer_client.get("/api/schema/?format=json").json()

    orders = schema["paths"]["/api/orders/"]["get"]
    parameters = {p["name"]: p["schema"] for p in orders["parameters"]}
    page = orders["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert parameters["limit"] == {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}
    assert parameters["offset"] == {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET}
    assert parameters["status"]["enum"]
    assert page == "#/components/schemas/PaginatedOrderOutputList"
