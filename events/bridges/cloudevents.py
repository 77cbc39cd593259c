"""Events as CloudEvents 1.0 in the JSON format (structured mode), both ways.

Outbound, the envelope becomes the standard attributes plus our extensions
(``eventversion``, ``aggregatetype``, ``aggregateid``, ``sequence``, ``correlationid``,
``causationid``). Inbound, a message is checked against the same rules and the event
type catalog before anything is stored.
"""

import json
import uuid
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson

from .. import types
from ..conf import events_settings

CONTENT_TYPE = "application/cloudevents+json"
SPEC_VERSION = "1.0"
REQUIRED = ("specversion", "id", "source", "type")


class StoredEvent(NamedTuple):
    """A stored event as a bridge reads it: its columns as the text they go out as."""

    id: str
    type: str
    version: int
    aggregate_type: str
    aggregate_id: str
    sequence: int
    occurred_at: str  # ISO 8601 with its offset
    correlation_id: str
    causation_id: str | None
    payload: dict[str, Any]


def to_cloudevent(event: StoredEvent, *, source: str | None = None) -> dict[str, Any]:
    """The event, upcast to the latest version of its type, as a CloudEvent."""
    version, payload = types.upcast(event.type, event.version, event.payload)
    cloudevent: dict[str, Any] = {
        "specversion": SPEC_VERSION,
        "id": event.id,
        "source": source or events_settings.CLOUDEVENTS_SOURCE,
        "type": event.type,
        "subject": event.aggregate_id,
        "time": event.occurred_at,
        "datacontenttype": "application/json",
        "data": payload,
        "eventversion": version,
        "aggregatetype": event.aggregate_type,
        "aggregateid": event.aggregate_id,
        "sequence": event.sequence,
        "correlationid": event.correlation_id,
    }
    if event.causation_id:
        cloudevent["causationid"] = event.causation_id
    return cloudevent


def encode(cloudevent: dict[str, Any]) -> bytes:
    """Compact JSON in UTF-8 (orjson; the standard library for what orjson refuses)."""
    try:
        return orjson.dumps(cloudevent)
    except orjson.JSONEncodeError:  # integers past 64 bits, keys that are not strings
        return json.dumps(cloudevent, separators=(",", ":"), ensure_ascii=False).encode()


def envelope_fields(cloudevent: dict[str, Any]) -> dict[str, str]:
    """The envelope's fields as strings, for headers and message attributes."""
    return {
        "id": cloudevent["id"],
        "type": cloudevent["type"],
        "version": str(cloudevent["eventversion"]),
        "aggregate_type": cloudevent["aggregatetype"],
        "aggregate_id": cloudevent["aggregateid"],
        "sequence": str(cloudevent["sequence"]),
        "occurred_at": cloudevent["time"],
        "correlation_id": cloudevent["correlationid"],
        **({"causation_id": cloudevent["causationid"]} if "causationid" in cloudevent else {}),
    }


class InvalidMessage(ValueError):
    """A message that cannot be taken in; the text says why (it goes to the dead letters)."""


@dataclass(frozen=True)
class ExternalEvent:
    """An inbound CloudEvent that passed every check."""

    source: str
    id: str
    type: str
    version: int
    aggregate_id: str
    payload: dict[str, Any]
    correlation_id: uuid.UUID | None


def decode(body: bytes | str) -> ExternalEvent:
    """Check an inbound message and return the event it carries, or raise ``InvalidMessage``."""
    try:
        cloudevent = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidMessage(f"Not JSON: {exc}") from None
    if not isinstance(cloudevent, dict):
        raise InvalidMessage("Not a CloudEvent: the JSON is not an object.")
    missing = [name for name in REQUIRED if not cloudevent.get(name)]
    if missing:
        raise InvalidMessage(f"Not a CloudEvent: missing {', '.join(missing)}.")
    if cloudevent["specversion"] != SPEC_VERSION:
        raise InvalidMessage(f"Unsupported specversion {cloudevent['specversion']!r}.")
    event_type = _catalog_type(cloudevent)
    payload = cloudevent.get("data")
    if not isinstance(payload, dict):
        raise InvalidMessage("data must be a JSON object.")
    try:
        types.validate(event_type, payload)
    except types.InvalidPayload as exc:
        raise InvalidMessage(str(exc)) from None
    aggregate_id = cloudevent.get("aggregateid") or cloudevent.get("subject")
    if not aggregate_id:
        raise InvalidMessage("No aggregate: set the aggregateid extension or the subject.")
    return ExternalEvent(
        source=str(cloudevent["source"]),
        id=str(cloudevent["id"]),
        type=event_type.name,
        version=event_type.version,
        aggregate_id=str(aggregate_id),
        payload=payload,
        correlation_id=_uuid_or_none(cloudevent.get("correlationid")),
    )


def _catalog_type(cloudevent: dict[str, Any]) -> types.EventType:
    version = cloudevent.get("eventversion")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise InvalidMessage(f"eventversion must be an integer, got {version!r}.")
    try:
        return types.get(cloudevent["type"], version)
    except types.UnknownEventType as exc:
        raise InvalidMessage(f"{exc} (not in the event catalog).") from None


def _uuid_or_none(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None
