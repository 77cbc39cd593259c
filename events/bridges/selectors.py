"""Reads about the bridges for the admin, the API and the metrics: where each one is."""

from dataclasses import dataclass
from datetime import datetime

from ..models import BridgeCheckpoint, Event
from .config import BridgeConfig, all_bridges


@dataclass(frozen=True)
class BridgeState:
    name: str
    transport: str
    paused: bool
    position: int
    lag: int  # events the bridge carries that are stored but not yet acknowledged
    published: int
    last_published_at: datetime | None
    last_error: str


def bridge_lag(*, bridge: BridgeConfig, position: int) -> int:
    """Events the bridge carries stored after ``position``: how far behind the head it is."""
    behind = Event.objects.filter(outbox__pk__gt=position)
    if bridge.event_types is not None:
        behind = behind.filter(type__in=bridge.event_types)
    return behind.count()


def bridge_states() -> list[BridgeState]:
    """Every configured bridge, those that never ran included (at position 0)."""
    checkpoints = {c.name: c for c in BridgeCheckpoint.objects.all()}
    states = []
    for bridge in all_bridges():
        checkpoint = checkpoints.get(bridge.name) or BridgeCheckpoint(name=bridge.name)
        states.append(
            BridgeState(
                name=bridge.name,
                transport=bridge.transport,
                paused=checkpoint.paused,
                position=checkpoint.position,
                lag=bridge_lag(bridge=bridge, position=checkpoint.position),
                published=checkpoint.published,
                last_published_at=checkpoint.last_published_at,
                last_error=checkpoint.last_error,
            )
        )
    return states
