"""Every write of the events engine goes through these functions."""

from .dead_letters import dead_letter_discard, dead_letter_replay
from .delivery import DeliveryOutcome, delivery_resume_stalled, delivery_run
from .emission import EmitOutsideTransaction, event_emit
from .relay import outbox_publish, outbox_sweep
from .replay import event_replay

__all__ = [
    "DeliveryOutcome",
    "EmitOutsideTransaction",
    "dead_letter_discard",
    "dead_letter_replay",
    "delivery_resume_stalled",
    "delivery_run",
    "event_emit",
    "event_replay",
    "outbox_publish",
    "outbox_sweep",
]
