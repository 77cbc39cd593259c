"""Every write of the notifications app goes through these functions."""

from .messages import (
    notification_mark_read,
    notification_render,
    notification_send,
    order_update_notify,
)

__all__ = [
    "notification_mark_read",
    "notification_render",
    "notification_send",
    "order_update_notify",
]
