"""Sending notifications: a row per message, rendered from its kind's templates.

A kind's subject and body are the templates ``notifications/<kind>/subject.txt`` and
``body.txt``, rendered as plain text (no HTML escaping) with the context the caller hands
over: this app knows nothing of what a notification is about beyond that context.
"""

import uuid
from collections.abc import Mapping
from functools import partial
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from ..models import Notification


def notification_render(*, kind: Notification.Kind, context: Mapping[str, Any]) -> tuple[str, str]:
    """The subject and body of a ``kind`` message (a template's final newline is not kept)."""
    folder = f"notifications/{kind}"
    subject = render_to_string(f"{folder}/subject.txt", dict(context)).strip()
    body = render_to_string(f"{folder}/body.txt", dict(context)).strip()
    return subject, body


@transaction.atomic
def notification_send(
    *,
    recipient: AbstractBaseUser,
    kind: Notification.Kind,
    context: Mapping[str, Any],
    channel: Notification.Channel = Notification.Channel.IN_APP,
    order_id: int | None = None,
    event_id: uuid.UUID | None = None,
) -> Notification:
    """Tell ``recipient`` once per kind and order; an email goes out after commit.

    A second call for the same recipient, kind and order returns the first notification
    and sends nothing, so a retried step or a redelivered event notifies once.
    """
    subject, body = notification_render(kind=kind, context=context)
    notification, created = Notification.objects.get_or_create(
        user=recipient,
        kind=kind,
        order_id=order_id,
        defaults={"channel": channel, "subject": subject, "body": body, "event_id": event_id},
    )
    if created and channel == Notification.Channel.EMAIL and recipient.email:
        transaction.on_commit(
            partial(
                send_mail,
                notification.subject,
                notification.body,
                None,
                [recipient.email],
                fail_silently=True,
            )
        )
    return notification


def order_update_notify(
    *,
    customer_id: int,
    order_id: int,
    kind: Notification.Kind,
    event_id: uuid.UUID,
    reason: str = "",
) -> Notification:
    """Tell the customer in the app what became of an order (once per order and kind)."""
    return notification_send(
        recipient=get_user_model().objects.get(pk=customer_id),
        kind=kind,
        context={"order_id": order_id, "reason": reason.replace("_", " ")},
        channel=Notification.Channel.IN_APP,
        order_id=order_id,
        event_id=event_id,
    )


def notification_mark_read(*, notification: Notification) -> Notification:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification
