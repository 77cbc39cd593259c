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
    "Command",
    "DeadLetter",
    "Delivery",
    "DeliveryAttempt",
    "Event",
    "OutboxEvent",
    "ProjectionApplied",
    "StepRun",
    "SubscriberCursor",
    "WorkflowRun",
]
