"""Notifications react to the order domain's events, knowing only their payloads."""

import logging

from events.envelope import Envelope
from events.subscriptions import EVERY_EVENT, subscriber

from .models import Notification
from .services import order_update_notify, webhook_deliveries_create

logger = logging.getLogger(__name__)

KINDS = {
    "order.fulfilled": Notification.Kind.ORDER_FULFILLED,  # paid and shipped: "on its way"
    "order.failed": Notification.Kind.ORDER_FAILED,
    "order.cancelled": Notification.Kind.ORDER_CANCELLED,
    "payment.refunded": Notification.Kind.ORDER_REFUNDED,
}


@subscriber("notifications.order_updates", events=list(KINDS))
def notify_order_update(event: Envelope) -> None:
    """Tell the order's customer, in the app and by email (each as they chose)."""
    customer_id = event.payload.get("customer_id")
    if customer_id is None:
        # A refund recorded before its event named the customer: nobody to tell.
        logger.info("Event %s names no customer; nothing to notify.", event.id)
        return
    order_update_notify(
        customer_id=customer_id,
        order_id=event.payload["order_id"],
        kind=KINDS[event.type],
        event_id=event.id,
        reason=event.payload.get("reason", ""),
        amount=event.payload.get("amount", ""),
    )


@subscriber("notifications.webhooks", events=EVERY_EVENT)
def fan_out_webhooks(event: Envelope) -> None:
    """One webhook delivery per subscription that wants the event (exactly once: inbox)."""
    webhook_deliveries_create(event=event)
