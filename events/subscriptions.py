"""The registry of subscribers: who reacts to which event types, with which retry policy."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q

from .conf import events_settings
from .envelope import Envelope
from .retry import backoff_delay

Handler = Callable[[Envelope], None]

# ``events=EVERY_EVENT`` subscribes to every event type, those declared later included.
EVERY_EVENT = "*"


@dataclass(frozen=True)
class Subscriber:
    name: str
    event_types: frozenset[str]
    handler: Handler
    max_attempts: int
    backoff: float
    max_backoff: float
    retry_on: tuple[type[BaseException], ...]
    every_event: bool = False

    def handles(self, event_type: str) -> bool:
        return self.every_event or event_type in self.event_types

    def event_filter(self) -> Q:
        """The subscriber's events among ``Event`` rows."""
        return Q() if self.every_event else Q(type__in=self.event_types)

    def should_retry(self, exc: BaseException, attempts: int) -> bool:
        return attempts < self.max_attempts and isinstance(exc, self.retry_on)

    def retry_delay(self, attempts: int) -> float:
        return backoff_delay(attempts, base=self.backoff, cap=self.max_backoff)


_registry: dict[str, Subscriber] = {}


def subscriber(
    name: str,
    *,
    events: Iterable[str] | str,
    max_attempts: int | None = None,
    backoff: float | None = None,
    max_backoff: float | None = None,
    retry_on: tuple[type[BaseException], ...] = (Exception,),
) -> Callable[[Handler], Handler]:
    """Register ``handler`` under ``name`` for ``events`` (a list of types, or ``EVERY_EVENT``).

    The handler runs inside the transaction that marks its delivery done, so whatever it
    writes happens once per event, however often the event arrives.
    """

    every_event = events == EVERY_EVENT
    if isinstance(events, str) and not every_event:
        raise ImproperlyConfigured(f"Subscriber {name!r}: give a list of event types.")

    def decorator(handler: Handler) -> Handler:
        if name in _registry and _registry[name].handler is not handler:
            raise ImproperlyConfigured(f"Subscriber {name!r} is registered twice.")
        _registry[name] = Subscriber(
            name=name,
            event_types=frozenset() if every_event else frozenset(events),
            every_event=every_event,
            handler=handler,
            max_attempts=max_attempts or events_settings.DELIVERY_MAX_ATTEMPTS,
            backoff=backoff if backoff is not None else events_settings.DELIVERY_BACKOFF_SECONDS,
            max_backoff=max_backoff or events_settings.DELIVERY_MAX_BACKOFF_SECONDS,
            retry_on=retry_on,
        )
        return handler

    return decorator


def get(name: str) -> Subscriber:
    try:
        return _registry[name]
    except KeyError:
        raise LookupError(f"Unknown subscriber: {name}") from None


def for_event_type(event_type: str) -> list[Subscriber]:
    return [s for s in _registry.values() if s.handles(event_type)]


def all_subscribers() -> list[Subscriber]:
    return sorted(_registry.values(), key=lambda s: s.name)
