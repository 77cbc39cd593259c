"""The event as subscribers read it: the envelope, upcast to the latest version."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import types
from .models import Event


@dataclass(frozen=True)
class Envelope:
    id: uuid.UUID
    type: str
    version: int
    aggregate_type: str
    aggregate_id: str
    sequence: int
    occurred_at: datetime
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None
    payload: dict[str, Any]

    @classmethod
    def from_event(cls, event: Event) -> "Envelope":
        version, payload = types.upcast(event.type, event.version, event.payload)
        return cls(
            id=event.id,
            type=event.type,
            version=version,
            aggregate_type=event.aggregate_type,
            aggregate_id=event.aggregate_id,
            sequence=event.sequence,
            occurred_at=event.occurred_at,
            correlation_id=event.correlation_id,
            causation_id=event.causation_id,
            payload=payload,
        )
