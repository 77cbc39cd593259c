"""What each user wants to be told, and how: per kind and channel, on unless switched off.

A preference is a row only once the user changed it; without one, every channel is on.
Customers choose among the kinds customers get; staff among every kind (the staff
alerts too).
"""

from collections.abc import Mapping

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from project.errors import ApplicationError

from ..models import CUSTOMER_KINDS, Notification, NotificationPreference

Preferences = dict[str, dict[str, bool]]

UNKNOWN_KIND = "Unknown notification kind."
UNKNOWN_CHANNEL = "Unknown channel; the channels are email and in_app."
NOT_A_SWITCH = "Must be true or false."


def notification_kinds_for(*, user: AbstractBaseUser) -> list[str]:
    """The kinds ``user`` may be sent, so may choose channels for."""
    if getattr(user, "is_staff", False):
        return list(Notification.Kind.values)
    return [str(kind) for kind in CUSTOMER_KINDS]


def notification_channel_enabled(*, user: AbstractBaseUser, kind: str, channel: str) -> bool:
    """Whether ``user`` wants ``kind`` on ``channel`` (yes unless switched off)."""
    return not NotificationPreference.objects.filter(
        user=user, kind=kind, channel=channel, enabled=False
    ).exists()


def notification_preferences_get(*, user: AbstractBaseUser) -> Preferences:
    """Every kind ``user`` may be sent, with each channel on or off."""
    preferences = {
        kind: {channel: True for channel in Notification.Channel.values}
        for kind in notification_kinds_for(user=user)
    }
    rows = NotificationPreference.objects.filter(user=user).values_list(
        "kind", "channel", "enabled"
    )
    for kind, channel, enabled in rows:
        if kind in preferences and channel in preferences[kind]:
            preferences[kind][channel] = enabled
    return preferences


def _problems(user: AbstractBaseUser, changes: Mapping[str, Mapping[str, object]]) -> dict:
    kinds = set(notification_kinds_for(user=user))
    problems: dict[str, object] = {}
    for kind, channels in changes.items():
        if kind not in kinds:
            problems[kind] = [UNKNOWN_KIND]
            continue
        wrong = {
            channel: [
                UNKNOWN_CHANNEL if channel not in Notification.Channel.values else NOT_A_SWITCH
            ]
            for channel, enabled in channels.items()
            if channel not in Notification.Channel.values or not isinstance(enabled, bool)
        }
        if wrong:
            problems[kind] = wrong
    return problems


@transaction.atomic
def notification_preferences_update(
    *, user: AbstractBaseUser, changes: Mapping[str, Mapping[str, bool]]
) -> Preferences:
    """Switch channels on or off for some kinds; the others stay as they are.

    ``changes`` maps a kind to ``{channel: on}``. An unknown kind or channel changes
    nothing and raises ``ApplicationError`` with the fields at fault.
    """
    problems = _problems(user, changes)
    if problems:
        raise ApplicationError("The preferences name unknown kinds or channels.", extra=problems)
    for kind, channels in changes.items():
        for channel, enabled in channels.items():
            NotificationPreference.objects.update_or_create(
                user=user, kind=kind, channel=channel, defaults={"enabled": enabled}
            )
    return notification_preferences_get(user=user)
