"""System checks: declarations that cannot work are reported at start-up."""

from typing import Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from . import subscriptions, types
from .bridges import config as bridges


@checks.register()
def check_subscribers_listen_to_declared_types(**kwargs: Any) -> list[checks.CheckMessage]:
    errors = []
    for sub in subscriptions.all_subscribers():
        for name in sorted(sub.event_types):
            try:
                types.get(name)
            except types.UnknownEventType:
                errors.append(
                    checks.Error(
                        f"Subscriber {sub.name!r} listens to undeclared event type {name!r}.",
                        hint="Declare it with events.types.register() in an app's events.py.",
                        id="events.E001",
                    )
                )
    return errors


@checks.register()
def check_bridges(**kwargs: Any) -> list[checks.CheckMessage]:
    """Every bridge in ``EVENTS["BRIDGES"]`` can work and carries declared types only."""
    try:
        configured = bridges.all_bridges()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="events.E002")]
    errors = []
    for bridge in configured:
        for name in sorted(bridge.event_types or ()):
            try:
                types.get(name)
            except types.UnknownEventType:
                errors.append(
                    checks.Error(
                        f"Bridge {bridge.name!r} carries undeclared event type {name!r}.",
                        id="events.E003",
                    )
                )
    return errors
