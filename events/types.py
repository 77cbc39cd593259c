"""The registry of event types: name, version, JSON schema, and how to upcast old versions.

Domain apps declare their types in an ``events.py`` module; emission validates against
the schema and readers get the latest version through the upcasters.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaError

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

DECLARED_TWICE = "Event type {name} v{version} is declared twice."
INVALID_PAYLOAD = "{event_type} v{version} payload is invalid at {path}: {detail}"


class UnknownEventType(LookupError):
    pass


class InvalidPayload(ValueError):
    """A payload that breaks its type's schema: ``path`` is where, ``detail`` what is wrong."""

    def __init__(self, event_type: str, version: int, error: SchemaError) -> None:
        self.event_type = event_type
        self.version = version
        self.path = "/".join(str(p) for p in error.absolute_path) or "(root)"
        self.detail = error.message
        super().__init__(
            INVALID_PAYLOAD.format(
                event_type=event_type, version=version, path=self.path, detail=self.detail
            )
        )


@dataclass(frozen=True)
class EventType:
    name: str
    version: int
    aggregate_type: str
    schema: dict[str, Any]
    description: str = ""
    upcast_from_previous: Upcaster | None = None
    validator: Draft202012Validator = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        Draft202012Validator.check_schema(self.schema)
        object.__setattr__(self, "validator", Draft202012Validator(self.schema))


_registry: dict[str, dict[int, EventType]] = {}


def register(
    name: str,
    *,
    aggregate_type: str,
    schema: dict[str, Any],
    version: int = 1,
    description: str = "",
    upcast_from_previous: Upcaster | None = None,
) -> EventType:
    """Declare one version of an event type. Version n>1 needs an upcaster from n-1."""
    versions = _registry.setdefault(name, {})
    if version in versions:
        raise ImproperlyConfigured(DECLARED_TWICE.format(name=name, version=version))
    if version > 1 and (version - 1 not in versions or upcast_from_previous is None):
        raise ImproperlyConfigured(
            f"Event type {name} v{version} needs v{version - 1} declared first and an upcaster."
        )
    event_type = EventType(
        name=name,
        version=version,
        aggregate_type=aggregate_type,
        schema=schema,
        description=description,
        upcast_from_previous=upcast_from_previous,
    )
    versions[version] = event_type
    return event_type


def get(name: str, version: int | None = None) -> EventType:
    versions = _registry.get(name)
    if not versions:
        raise UnknownEventType(f"Unknown event type: {name}")
    if version is None:
        return versions[max(versions)]
    try:
        return versions[version]
    except KeyError:
        raise UnknownEventType(f"Unknown version {version} of event type {name}") from None


def validate(event_type: EventType, payload: dict[str, Any]) -> None:
    error = next(iter(event_type.validator.iter_errors(payload)), None)
    if error is not None:
        raise InvalidPayload(event_type.name, event_type.version, error)


def upcast(name: str, version: int, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Bring a stored payload up to the latest version of its type."""
    latest = get(name).version
    while version < latest:
        version += 1
        upcaster = get(name, version).upcast_from_previous
        assert upcaster is not None  # enforced by register()
        payload = upcaster(payload)
    return version, payload


def catalog() -> list[EventType]:
    """Every declared version of every type, by name then version."""
    return [versions[v] for name, versions in sorted(_registry.items()) for v in sorted(versions)]
