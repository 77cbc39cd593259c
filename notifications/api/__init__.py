"""The notifications API: each customer's own messages."""

from .messages import NotificationSerializer, NotificationViewSet

__all__ = ["NotificationSerializer", "NotificationViewSet"]
