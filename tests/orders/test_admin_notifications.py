"""The notifications' admin, as the orders app registers it: each links to its order."""

import pytest
from django.contrib import admin

from events.admin import admin_url
from notifications.admin import NotificationAdmin
from notifications.models import Notification
from orders.admin import OrderNotificationAdmin
from orders.models import Order
from orders.services import LineInput, order_place

pytestmark = pytest.mark.django_db


def test_the_registered_notification_admin_is_the_one_that_knows_orders():
    registered = admin.site._registry[Notification]

    assert type(registered) is OrderNotificationAdmin
    assert isinstance(registered, NotificationAdmin)


def test_a_notification_links_to_its_order(superuser_client, customer, catalog):
    order, _ = order_place(
        customer=customer, lines=[LineInput("MUG-LOGO", 1)], payment_token="tok_ok"
    )
    notification = Notification.objects.create(
        user=customer,
        channel=Notification.Channel.IN_APP,
        kind=Notification.Kind.ORDER_CANCELLED,
        subject="s",
        body="b",
        order_id=order.pk,
    )
    order_page = admin_url(Order, "change", order.pk)

    changelist = superuser_client.get(admin_url(Notification, "changelist"))
    change = superuser_client.get(admin_url(Notification, "change", notification.pk))

    assert f'<a href="{order_page}">{order.pk}</a>' in changelist.content.decode()
    assert f'<a href="{order_page}">{order.pk}</a>' in change.content.decode()


def test_a_notification_about_no_order_shows_none(customer):
    notification = Notification(user=customer, order_id=None)

    assert admin.site._registry[Notification].order(notification) == "-"
