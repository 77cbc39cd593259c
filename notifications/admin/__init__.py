"""Admin pages of the notifications app."""

from .messages import NotificationAdmin
from .preferences import NotificationPreferenceAdmin
from .webhooks import WebhookDeliveryAdmin, WebhookSubscriptionAdmin

__all__ = [
    "NotificationAdmin",
    "NotificationPreferenceAdmin",
    "WebhookDeliveryAdmin",
    "WebhookSubscriptionAdmin",
]
