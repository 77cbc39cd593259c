import time

from events.envelope import Envelope
from events.subscriptions import subscriber

from .models import Record, Switch


class PoisonError(Exception):
    pass


def _record(name: str, event: Envelope) -> None:
    Record.objects.create(
        subscriber=name,
        aggregate_id=event.aggregate_id,
        sequence=event.sequence,
        event_id=event.id,
    )


@subscriber("probe.first", events=["probe.tick"])
def first(event: Envelope) -> None:
    _record("probe.first", event)


@subscriber("probe.second", events=["probe.tick"])
def second(event: Envelope) -> None:
    _record("probe.second", event)


@subscriber("probe.poisoned", events=["probe.poison"], max_attempts=3, backoff=0.1)
def poisoned(event: Envelope) -> None:
    if not Switch.is_on("healed"):
        raise PoisonError(f"cannot digest event {event.id}")
    _record("probe.poisoned", event)


@subscriber("probe.slow", events=["probe.slow"])
def slow(event: Envelope) -> None:
    _record("probe.slow", event)  # rolled back if the worker dies before commit
    time.sleep(event.payload.get("sleep", 0))
