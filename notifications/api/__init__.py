"""The notifications API: each user's own messages and preferences; staff's webhooks."""

from .messages import NotificationSerializer, NotificationViewSet
from .preferences import NotificationPreferencesApi
from .webhooks import WebhookDeliveryViewSet, WebhookSubscriptionViewSet

__all__ = [
    "NotificationPreferencesApi",
    "NotificationSerializer",
    "NotificationViewSet",
    "WebhookDeliveryViewSet",
    "WebhookSubscriptionViewSet",
]
