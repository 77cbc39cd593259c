"""Notifications react to the order domain's events, knowing only their payloads."""

from events.envelope import Envelope
from events.subscriptions import EVERY_EVENT, subscriber

from .models import Notification
from .services import order_update_notify, webhook_deliveries_create

KINDS = {
    "order.fulfilled": Notification.Kind.ORDER_FULFILLED,
    "order.failed": Notification.Kind.ORDER_FAILED,
    "order.cancelled": Notification.Kind.ORDER_CANCELLED,
}


@subscriber("notifications.order_updates", events=list(KINDS))
def notify_order_update(event: Envelope) -> None:
    order_update_notify(
        customer_id=event.payload["customer_id"],
        order_id=event.payload["order_id"],
        kind=KINDS[event.type],
        event_id=event.id,
        reason=event.payload.get("reason", ""),
    )


@subscriber("notifications.webhooks", events=EVERY_EVENT)
def fan_out_webhooks(event: Envelope) -> None:
    """One webhook delivery per subscription that wants the event (exactly once: inbox)."""
    webhook_deliveries_create(event=event)
