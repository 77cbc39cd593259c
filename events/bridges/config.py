"""The bridges the ``EVENTS["BRIDGES"]`` setting declares, checked and typed."""

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from ..conf import events_settings

KAFKA = "kafka"
SNS = "sns"
TRANSPORTS = (KAFKA, SNS)
EVERY_TYPE = "*"

# Keys each transport accepts besides name, transport and event_types.
_OPTIONS: dict[str, dict[str, Any]] = {
    KAFKA: {"topic_prefix": "events.", "producer": {}},
    SNS: {"topic_arn": None},
}


@dataclass(frozen=True)
class BridgeConfig:
    """One outbound bridge: where it publishes and which event types it carries."""

    name: str
    transport: str
    event_types: frozenset[str] | None  # None: every type
    options: dict[str, Any] = field(default_factory=dict)

    def carries(self, event_type: str) -> bool:
        return self.event_types is None or event_type in self.event_types


def parse(raw: dict[str, Any]) -> BridgeConfig:
    """One entry of ``EVENTS["BRIDGES"]``; anything that cannot work raises with a reason."""
    if not isinstance(raw, dict):
        raise ImproperlyConfigured(f"EVENTS['BRIDGES'] entries are dicts, got {raw!r}.")
    name = raw.get("name")
    transport = raw.get("transport")
    if not name or not isinstance(name, str):
        raise ImproperlyConfigured(f"A bridge needs a name: {raw!r}.")
    if transport not in TRANSPORTS:
        raise ImproperlyConfigured(
            f"Bridge {name!r}: transport must be one of {', '.join(TRANSPORTS)}, got {transport!r}."
        )
    allowed = _OPTIONS[transport]
    unknown = set(raw) - {"name", "transport", "event_types", *allowed}
    if unknown:
        raise ImproperlyConfigured(f"Bridge {name!r}: unknown keys {sorted(unknown)}.")
    event_types = raw.get("event_types", EVERY_TYPE)
    if event_types != EVERY_TYPE and (
        isinstance(event_types, str) or not all(isinstance(t, str) for t in event_types)
    ):
        raise ImproperlyConfigured(f"Bridge {name!r}: event_types is a list of types, or '*'.")
    options = {key: raw.get(key, default) for key, default in allowed.items()}
    if transport == SNS and not options["topic_arn"]:
        raise ImproperlyConfigured(f"Bridge {name!r}: an SNS bridge needs a topic_arn.")
    return BridgeConfig(
        name=name,
        transport=transport,
        event_types=None if event_types == EVERY_TYPE else frozenset(event_types),
        options=options,
    )


def all_bridges() -> list[BridgeConfig]:
    bridges = [parse(raw) for raw in events_settings.BRIDGES]
    names = [bridge.name for bridge in bridges]
    if len(set(names)) != len(names):
        raise ImproperlyConfigured(f"EVENTS['BRIDGES'] names a bridge twice: {names}.")
    return bridges


def get(name: str) -> BridgeConfig:
    for bridge in all_bridges():
        if bridge.name == name:
            return bridge
    known = ", ".join(b.name for b in all_bridges()) or "none"
    raise LookupError(f"No bridge named {name!r} is configured (configured: {known}).")
