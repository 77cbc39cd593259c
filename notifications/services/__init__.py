"""Every write of the notifications app goes through these functions."""

from .alerts import staff_alert
from .messages import (
    notification_mark_read,
    notification_render,
    notification_send,
    order_update_notify,
)
from .webhook_sending import webhook_delivery_send, webhook_send_due, webhook_subscription_disable
from .webhooks import (
    webhook_deliveries_create,
    webhook_delivery_redeliver,
    webhook_subscription_create,
    webhook_subscription_enable,
    webhook_subscription_update,
    webhook_test_send,
)

__all__ = [
    "notification_mark_read",
    "notification_render",
    "notification_send",
    "order_update_notify",
    "staff_alert",
    "webhook_deliveries_create",
    "webhook_delivery_redeliver",
    "webhook_delivery_send",
    "webhook_send_due",
    "webhook_subscription_create",
    "webhook_subscription_disable",
    "webhook_subscription_enable",
    "webhook_subscription_update",
    "webhook_test_send",
]
