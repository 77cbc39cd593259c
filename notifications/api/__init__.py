"""The notifications API: each user's own messages and preferences."""

from .messages import NotificationSerializer, NotificationViewSet
from .preferences import NotificationPreferencesApi

__all__ = ["NotificationPreferencesApi", "NotificationSerializer", "NotificationViewSet"]
