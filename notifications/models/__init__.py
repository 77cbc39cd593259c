"""Messages to people and to other systems (``messages``: email and in-app; ``email``: the
tries of each email; ``preferences``: what each user wants to be told, and how;
``webhooks``: subscriptions, deliveries and their attempts)."""

from .email import EmailAttempt
from .messages import CUSTOMER_KINDS, Notification
from .preferences import NotificationPreference
from .webhooks import WebhookAttempt, WebhookDelivery, WebhookSubscription

__all__ = [
    "CUSTOMER_KINDS",
    "EmailAttempt",
    "Notification",
    "NotificationPreference",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
]
