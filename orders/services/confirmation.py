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
    """Confirm the order to its customer by email and in the app (once per order).

    Returns the email: recorded and queued once the caller's transaction commits (or
    skipped, if the customer switched confirmation emails off).
    """
    order = Order.objects.select_related("customer").get(pk=order_id)
    context = order_confirmation_context(order=order)
    # Called through its module, so a test can stand in for the notifications app.
    send = notifications.services.notification_send
    send(
        recipient=order.customer,
        kind=Notification.Kind.ORDER_CONFIRMATION,
        context=context,
        channel=Notification.Channel.IN_APP,
        order_id=order.pk,
    )
    return send(
        recipient=order.customer,
        kind=Notification.Kind.ORDER_CONFIRMATION,
        context=context,
        channel=Notification.Channel.EMAIL,
        order_id=order.pk,
    )
