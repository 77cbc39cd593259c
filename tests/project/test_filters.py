"""Query filters are read as the schema types them: anything else is a 400 naming it."""

import pytest


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("unread=maybe", "unread"),
        ("unread=1", "unread"),
        ("unread=", "unread"),
        ("unread=true&unread=false", "unread"),
        ("order_id=1.5", "order_id"),
        (f"order_id={2**70}", "order_id"),
        ("kind=", "kind"),
    ],
)
def test_a_filter_value_of_the_wrong_type_is_a_400(customer_client, query, parameter):
    response = customer_client.get(f"/api/notifications/?{query}")

    assert response.status_code == 400, response.content
    assert set(response.json()["errors"]) == {parameter}


@pytest.mark.parametrize(
    "query", ["unread=true", "unread=false", "order_id=7", "kind=order_failed"]
)
def test_a_filter_value_of_the_right_type_filters(customer_client, query):
    assert customer_client.get(f"/api/notifications/?{query}").status_code == 200


@pytest.mark.parametrize("query", ["started_before=", "status=", "started_after=yesterday"])
def test_an_empty_or_unreadable_date_or_choice_is_a_400(staff_client, query):
    assert staff_client.get(f"/api/workflows/?{query}").status_code == 400


@pytest.mark.parametrize(
    "moment",
    ["0229-03-30T17:18:53+16:50", "9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+15:00"],
)
def test_any_iso_8601_date_and_time_is_read_whatever_its_offset(staff_client, moment):
    response = staff_client.get("/api/events/", {"occurred_after": moment})

    assert response.status_code == 200, response.content
