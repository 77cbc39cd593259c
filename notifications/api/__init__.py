"""The notifications API: each customer's own messages."""

from .messages import NotificationSerializer, NotificationViewSet
from .webhooks import WebhookDeliveryViewSet, WebhookSubscriptionViewSet

__all__ = [
    "NotificationSerializer",
    "NotificationViewSet",
    "WebhookDeliveryViewSet",
    "WebhookSubscriptionViewSet",
]
