"""Sending notifications: a row per recipient and channel, rendered from its kind's templates.

A kind's subject and body are the templates ``notifications/<kind>/subject.txt`` and
``body.txt``, rendered as plain text (no HTML escaping) with the context the caller hands
over: this app knows nothing of what a notification is about beyond that context. A kind
may also have ``body.html``, the email's HTML alternative (autoescaped).

Each channel respects the recipient's preferences. A channel switched off is still
recorded, as a ``skipped`` row that says why: nothing is sent or shown, support can tell
the customer why, and a redelivered event finds the row and does not send late.
"""

import uuid
from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string
from django.utils import timezone

from ..models import Notification
from .email import CHANNEL_OFF, email_fields, email_queue_on_commit
from .preferences import notification_channel_enabled

Channel = Notification.Channel


def notification_render(*, kind: Notification.Kind, context: Mapping[str, Any]) -> tuple[str, str]:
    """The subject and body of a ``kind`` message (a template's final newline is not kept)."""
    folder = f"notifications/{kind}"
    subject = render_to_string(f"{folder}/subject.txt", dict(context)).strip()
    body = render_to_string(f"{folder}/body.txt", dict(context)).strip()
    return subject, body


def notification_render_html(*, kind: Notification.Kind, context: Mapping[str, Any]) -> str:
    """The HTML body of a ``kind`` email, or "" when the kind has no ``body.html``."""
    try:
        template = get_template(f"notifications/{kind}/body.html")
    except TemplateDoesNotExist:
        return ""
    return template.render(dict(context)).strip()


def _existing(
    recipient: AbstractBaseUser,
    kind: str,
    channel: str,
    order_id: int | None,
    event_id: uuid.UUID | None,
) -> Notification | None:
    """The notification a repeated call would duplicate: same order and kind, or same event."""
    rows = Notification.objects.filter(user=recipient, channel=channel)
    if order_id is not None:
        return rows.filter(kind=kind, order_id=order_id).first()
    if event_id is not None:
        return rows.filter(event_id=event_id).first()
    return None


def _delivery_fields(recipient: AbstractBaseUser, kind: str, channel: str) -> dict:
    enabled = notification_channel_enabled(user=recipient, kind=kind, channel=channel)
    if channel == Channel.EMAIL:
        return email_fields(address=getattr(recipient, "email", ""), enabled=enabled)
    if not enabled:
        return {"status": Notification.Status.SKIPPED, "last_error": CHANNEL_OFF}
    return {"status": Notification.Status.SENT, "sent_at": timezone.now()}


@transaction.atomic
def notification_send(
    *,
    recipient: AbstractBaseUser,
    kind: Notification.Kind,
    context: Mapping[str, Any],
    channel: Notification.Channel = Channel.IN_APP,
    order_id: int | None = None,
    event_id: uuid.UUID | None = None,
) -> Notification:
    """Tell ``recipient`` on one channel, once per order and kind, or once per event.

    A second call for the same recipient, channel, kind and order (or, without an order,
    the same event) returns the first notification and sends nothing, so a retried step
    or a redelivered event notifies once. An email is queued after commit.
    """
    if found := _existing(recipient, kind, channel, order_id, event_id):
        return found
    subject, body = notification_render(kind=kind, context=context)
    html = notification_render_html(kind=kind, context=context) if channel == Channel.EMAIL else ""
    try:
        with transaction.atomic():  # a savepoint: a concurrent twin may win the insert
            notification = Notification.objects.create(
                user=recipient,
                kind=kind,
                channel=channel,
                subject=subject,
                body=body,
                html_body=html,
                order_id=order_id,
                event_id=event_id,
                **_delivery_fields(recipient, kind, channel),
            )
    except IntegrityError:
        if found := _existing(recipient, kind, channel, order_id, event_id):
            return found
        raise
    if notification.status == Notification.Status.QUEUED:
        email_queue_on_commit(notification=notification)
    return notification


def order_update_notify(
    *,
    customer_id: int,
    order_id: int,
    kind: Notification.Kind,
    event_id: uuid.UUID,
    reason: str = "",
    amount: str = "",
) -> list[Notification]:
    """Tell the customer what became of an order, in the app and by email (once each)."""
    recipient = get_user_model().objects.get(pk=customer_id)
    context = {"order_id": order_id, "reason": reason.replace("_", " "), "amount": amount}
    return [
        notification_send(
            recipient=recipient,
            kind=kind,
            context=context,
            channel=channel,
            order_id=order_id,
            event_id=event_id,
        )
        for channel in (Channel.IN_APP, Channel.EMAIL)
    ]


def notification_inbox(*, user: AbstractBaseUser) -> QuerySet[Notification]:
    """The user's in-app messages, newest first (switched-off ones are not shown)."""
    return Notification.objects.filter(user=user, channel=Channel.IN_APP).exclude(
        status=Notification.Status.SKIPPED
    )


def notification_unread_count(*, user: AbstractBaseUser) -> int:
    return notification_inbox(user=user).filter(read_at__isnull=True).count()


def notification_mark_read(*, notification: Notification) -> Notification:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notification_mark_all_read(*, user: AbstractBaseUser) -> int:
    """Mark every unread in-app message of ``user`` read; returns how many were."""
    unread = notification_inbox(user=user).filter(read_at__isnull=True)
    return unread.update(read_at=timezone.now())
