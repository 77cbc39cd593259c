"""System checks: declarations that cannot work are reported at start-up."""

from typing import Any

from django.core import checks

from . import subscriptions, types


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
