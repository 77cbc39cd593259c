"""The order confirmation: what the customer is told, handed to the notifications app."""

import notifications.services
from notifications.models import Notification

from ..models import Order


def order_confirmation_context(*, order: Order) -> dict:
    """What the confirmation's templates show: the order's number, lines and total."""
    return {
        "order_id": order.pk,
        "lines": [{"quantity": line.quantity, "name": line.name} for line in order.lines.all()],
        "total": str(order.total),
    }


def order_confirmation_send(*, order_id: int) -> Notification:
    """Email the customer that the order is confirmed (once per order)."""
    order = Order.objects.select_related("customer").get(pk=order_id)
    # Called through its module, so a test can stand in for the notifications app.
    return notifications.services.notification_send(
        recipient=order.customer,
        kind=Notification.Kind.ORDER_CONFIRMATION,
        context=order_confirmation_context(order=order),
        channel=Notification.Channel.EMAIL,
        order_id=order.pk,
    )
