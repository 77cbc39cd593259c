from events.envelope import Envelope
from events.subscriptions import subscriber


@subscriber("bench.noop", events=["bench.ping"])
def noop(event: Envelope) -> None:
    """Does nothing: what is measured is the engine's delivery around it."""
