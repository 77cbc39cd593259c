"""Read models built from events, and rebuilt from the whole history with one command.

A projection is a subscriber with two more things: the tables it owns and a ``reset``
that empties them. It applies each event at most once (its own applied-events rows), so
a rebuild and the live deliveries can meet without counting anything twice.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import connection, models, transaction

from .envelope import Envelope
from .models import Event, ProjectionApplied
from .subscriptions import subscriber

Apply = Callable[[Envelope], None]


@dataclass(frozen=True)
class Projection:
    name: str
    event_types: frozenset[str]
    apply: Apply
    reset: Callable[[], None]
    models: tuple[type[models.Model], ...]


_registry: dict[str, Projection] = {}


def projection(
    name: str,
    *,
    events: Iterable[str],
    models: Iterable[type[models.Model]],
    reset: Callable[[], None],
) -> Callable[[Apply], Apply]:
    """Register ``apply`` as the subscriber ``name`` and as a rebuildable projection."""

    def decorator(apply: Apply) -> Apply:
        proj = Projection(
            name=name, event_types=frozenset(events), apply=apply, reset=reset, models=tuple(models)
        )
        _registry[name] = proj
        subscriber(name, events=proj.event_types)(lambda event: _apply_once(proj, event))
        return apply

    return decorator


def get(name: str) -> Projection:
    try:
        return _registry[name]
    except KeyError:
        raise LookupError(f"Unknown projection: {name}") from None


def all_projections() -> list[Projection]:
    return sorted(_registry.values(), key=lambda p: p.name)


def _apply_once(proj: Projection, event: Envelope) -> None:
    _, created = ProjectionApplied.objects.get_or_create(projection=proj.name, event_id=event.id)
    if created:
        proj.apply(event)


def _lock(proj: Projection) -> None:
    # Live deliveries write these tables; while the rebuild holds them, they wait, and
    # afterwards find their event already applied.
    if connection.vendor != "postgresql":
        return  # SQLite runs one writing transaction at a time
    tables = [ProjectionApplied._meta.db_table, *(m._meta.db_table for m in proj.models)]
    quoted = ", ".join(connection.ops.quote_name(t) for t in tables)
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {quoted} IN SHARE ROW EXCLUSIVE MODE")


@transaction.atomic
def projection_rebuild(*, name: str) -> int:
    """Empty the projection and fold the whole history into it again; return the count."""
    proj = get(name)
    _lock(proj)
    proj.reset()
    ProjectionApplied.objects.filter(projection=proj.name).delete()
    events = Event.objects.filter(type__in=proj.event_types).order_by(
        "occurred_at", "aggregate_type", "aggregate_id", "sequence"
    )
    count = 0
    for event in events.iterator(chunk_size=1000):
        _apply_once(proj, Envelope.from_event(event))
        count += 1
    return count
