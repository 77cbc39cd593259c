"""Admin pages of the notifications app."""

from .messages import NotificationAdmin
from .preferences import NotificationPreferenceAdmin

__all__ = ["NotificationAdmin", "NotificationPreferenceAdmin"]
