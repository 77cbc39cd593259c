"""Admin pages of the notifications app."""

from .messages import NotificationAdmin

__all__ = ["NotificationAdmin"]
