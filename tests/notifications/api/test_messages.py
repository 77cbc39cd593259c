"""The notifications API: each customer lists and reads their own."""

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
