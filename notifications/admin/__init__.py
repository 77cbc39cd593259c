"""Admin pages of the notifications app."""

from .messages import NotificationAdmin
from .webhooks import WebhookDeliveryAdmin, WebhookSubscriptionAdmin

__all__ = ["NotificationAdmin", "WebhookDeliveryAdmin", "WebhookSubscriptionAdmin"]
