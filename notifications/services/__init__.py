"""Every write of the notifications app goes through these functions."""

from .alerts import staff_alert
from .email import email_deliver, email_resend, email_resend_stalled
from .messages import (
    notification_inbox,
    notification_mark_all_read,
    notification_mark_read,
    notification_render,
    notification_render_html,
    notification_send,
    notification_unread_count,
    order_update_notify,
)
from .preferences import (
    notification_channel_enabled,
    notification_kinds_for,
    notification_preferences_get,
    notification_preferences_update,
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
    "email_deliver",
    "email_resend",
    "email_resend_stalled",
    "notification_channel_enabled",
    "notification_inbox",
    "notification_kinds_for",
    "notification_mark_all_read",
    "notification_mark_read",
    "notification_preferences_get",
    "notification_preferences_update",
    "notification_render",
    "notification_render_html",
    "notification_send",
    "notification_unread_count",
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
