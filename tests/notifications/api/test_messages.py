"""The notifications API: each customer lists, counts and reads their own in-app messages."""

import pytest

from notifications.models import Notification

pytestmark = pytest.mark.django_db


def notify(user, kind: str, order_id: int) -> Notification:  # type: ignore[no-untyped-def]
    return Notification.objects.create(
        user=user,
        channel=Notification.Channel.IN_APP,
        kind=kind,
        subject=f"About order {order_id}",
        body="...",
        order_id=order_id,
        status=Notification.Status.SENT,
    )


def test_a_customer_lists_only_their_own_notifications(customer_client, customer, other_customer):
    mine = [notify(customer, "order_fulfilled", 1), notify(customer, "order_cancelled", 2)]
    theirs = notify(other_customer, "order_fulfilled", 3)

    response = customer_client.get("/api/notifications/")

    assert response.status_code == 200
    assert {n["id"] for n in response.json()["results"]} == {n.pk for n in mine}
    assert customer_client.get(f"/api/notifications/{theirs.pk}/").status_code == 404


def test_marking_a_notification_read_sets_its_read_time_once(customer_client, customer):
    notification = notify(customer, "order_fulfilled", 1)

    first = customer_client.post(f"/api/notifications/{notification.pk}/read/")
    second = customer_client.post(f"/api/notifications/{notification.pk}/read/")

    assert first.status_code == 200
    assert first.json()["read_at"] is not None
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert second.json()["read_at"] == first.json()["read_at"]


def test_a_customer_cannot_mark_another_customers_notification_read(other_client, customer):
    notification = notify(customer, "order_fulfilled", 1)

    response = other_client.post(f"/api/notifications/{notification.pk}/read/")

    assert response.status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_an_anonymous_request_is_refused_in_the_error_format(client):
    for method, url in [
        ("get", "/api/notifications/"),
        ("get", "/api/notifications/unread-count/"),
        ("post", "/api/notifications/read-all/"),
    ]:
        response = getattr(client, method)(url)

        assert response.status_code == 401, url
        assert set(response.json()) == {"detail", "code", "errors"}


def test_the_unread_count_counts_only_the_customers_unread_messages(
    customer_client, customer, other_customer
):
    notify(customer, "order_fulfilled", 1)
    notify(customer, "order_cancelled", 2)
    read = notify(customer, "order_failed", 3)
    customer_client.post(f"/api/notifications/{read.pk}/read/")
    notify(other_customer, "order_fulfilled", 4)

    response = customer_client.get("/api/notifications/unread-count/")

    assert response.status_code == 200
    assert response.json() == {"unread": 2}


def test_marking_all_read_marks_only_the_customers_unread_messages(
    customer_client, customer, other_customer
):
    mine = [notify(customer, "order_fulfilled", 1), notify(customer, "order_cancelled", 2)]
    theirs = notify(other_customer, "order_fulfilled", 3)

    response = customer_client.post("/api/notifications/read-all/")
    again = customer_client.post("/api/notifications/read-all/")

    assert (response.status_code, response.json()) == (200, {"marked_read": 2})
    assert again.json() == {"marked_read": 0}
    assert all(Notification.objects.get(pk=n.pk).read_at is not None for n in mine)
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert customer_client.get("/api/notifications/unread-count/").json() == {"unread": 0}


def test_the_list_filters_unread_messages(customer_client, customer):
    unread = notify(customer, "order_fulfilled", 1)
    read = notify(customer, "order_cancelled", 2)
    customer_client.post(f"/api/notifications/{read.pk}/read/")

    response = customer_client.get("/api/notifications/", {"unread": "true"})

    assert [n["id"] for n in response.json()["results"]] == [unread.pk]


def test_the_inbox_shows_in_app_messages_not_email_records_or_switched_off_ones(
    customer_client, customer
):
    shown = notify(customer, "order_fulfilled", 1)
    email = notify(customer, "order_cancelled", 2)
    skipped = notify(customer, "order_failed", 3)
    Notification.objects.filter(pk=email.pk).update(channel=Notification.Channel.EMAIL)
    Notification.objects.filter(pk=skipped.pk).update(status=Notification.Status.SKIPPED)

    response = customer_client.get("/api/notifications/")

    assert [n["id"] for n in response.json()["results"]] == [shown.pk]
    assert customer_client.get("/api/notifications/unread-count/").json() == {"unread": 1}
    assert customer_client.get(f"/api/notifications/{email.pk}/").status_code == 404
