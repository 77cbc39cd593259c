"""Telling the staff: every active staff user, in the app and by email."""

import uuid
from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model

from ..models import Notification
from .messages import notification_send


def staff_alert(
    *, kind: Notification.Kind, context: Mapping[str, Any], event_id: uuid.UUID | None = None
) -> list[Notification]:
    """Send a ``kind`` message to every active staff user, once in-app and once by email."""
    staff = get_user_model().objects.filter(is_staff=True, is_active=True).order_by("pk")
    return [
        notification_send(
            recipient=user, kind=kind, context=context, channel=channel, event_id=event_id
        )
        for user in staff
        for channel in (Notification.Channel.IN_APP, Notification.Channel.EMAIL)
    ]
