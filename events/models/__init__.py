from .bridges import BridgeCheckpoint, InboundDeadLetter, InboundEvent
from .commands import Command
from .delivery import (
    DeadLetter,
    Delivery,
    DeliveryAttempt,
    ProjectionApplied,
    SubscriberCursor,
)
from .store import AggregateStream, Event, OutboxEvent
from .workflow import StepRun, WorkflowRun

__all__ = [
    "AggregateStream",
    "BridgeCheckpoint",
    "Command",
    "DeadLetter",
    "Delivery",
    "DeliveryAttempt",
    "Event",
    "InboundDeadLetter",
    "InboundEvent",
    "OutboxEvent",
    "ProjectionApplied",
    "StepRun",
    "SubscriberCursor",
    "WorkflowRun",
]
