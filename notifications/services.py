"""Sending notifications: a row per message, and mail after commit."""

import uuid
from functools import partial

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from orders.models import Order

from .models import Notification

MESSAGES = {
    "order_fulfilled": ("Your order {order_id} is on its way", "Order {order_id} was shipped."),
    "order_failed": (
        "Your order {order_id} could not be completed",
        "Order {order_id} failed: {reason}. You have not been charged.",
    ),
    "order_cancelled": ("Your order {order_id} was cancelled", "Order {order_id} was cancelled."),
}


@transaction.atomic
def order_confirmation_send(*, order_id: int) -> Notification:
    """Email the customer that the order is confirmed (once per order)."""
    order = Order.objects.select_related("customer").get(pk=order_id)
    lines = "\n".join(f"  {line.quantity} x {line.name}" for line in order.lines.all())
    notification, created = Notification.objects.get_or_create(
        user=order.customer,
        kind="order_confirmation",
        order_id=order.pk,
        defaults={
            "channel": Notification.Channel.EMAIL,
            "subject": f"Order {order.pk} confirmed",
            "body": f"Thank you! We received order {order.pk}:\n{lines}\nTotal: {order.total}",
        },
    )
    if created and order.customer.email:
        transaction.on_commit(
            partial(
                send_mail,
                notification.subject,
                notification.body,
                None,
                [order.customer.email],
                fail_silently=True,
            )
        )
    return notification


def order_update_notify(
    *, customer_id: int, order_id: int, kind: str, event_id: uuid.UUID, reason: str = ""
) -> Notification:
    """Tell the customer in the app what became of an order (once per order and kind)."""
    subject, body = MESSAGES[kind]
    notification, _ = Notification.objects.get_or_create(
        user=get_user_model().objects.get(pk=customer_id),
        kind=kind,
        order_id=order_id,
        defaults={
            "channel": Notification.Channel.IN_APP,
            "subject": subject.format(order_id=order_id),
            "body": body.format(order_id=order_id, reason=reason.replace("_", " ")),
            "event_id": event_id,
        },
    )
    return notification


def notification_mark_read(*, notification: Notification) -> Notification:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification
