"""Messages to people (``messages``: email and in-app; ``email``: the tries of each email;
``preferences``: what each user wants to be told, and how)."""

from .email import EmailAttempt
from .messages import CUSTOMER_KINDS, Notification
from .preferences import NotificationPreference

__all__ = ["CUSTOMER_KINDS", "EmailAttempt", "Notification", "NotificationPreference"]
