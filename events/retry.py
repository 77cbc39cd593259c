"""Backoff arithmetic shared by subscribers and workflow steps."""

import math
import random


def backoff_delay(attempts: int, *, base: float, cap: float, jitter: bool = True) -> float:
    """Exponential backoff after ``attempts`` failures, capped, with jitter over its upper half."""
    ceiling = min(cap, base * 2 ** (attempts - 1))
    return random.uniform(ceiling / 2, ceiling) if jitter else ceiling


def countdown(seconds: float) -> int:
    """A retry countdown in whole seconds, at least one.

    RabbitMQ's native delayed delivery (used on quorum queues) counts whole seconds and
    refuses zero, so every broker gets the same rounding.
    """
    return max(1, math.ceil(seconds))
