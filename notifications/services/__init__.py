"""Every write of the notifications app goes through these functions."""

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
]
