"""Messages to people (``messages``: email and in-app)."""

from .messages import Notification
from .webhooks import WebhookAttempt, WebhookDelivery, WebhookSubscription

__all__ = ["Notification", "WebhookAttempt", "WebhookDelivery", "WebhookSubscription"]
