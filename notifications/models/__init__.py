"""Messages to people (``messages``: email and in-app)."""

from .messages import Notification

__all__ = ["Notification"]
