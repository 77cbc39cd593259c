"""The loop every outbound bridge runs: read after the checkpoint, publish, then advance.

The checkpoint moves only once the broker acknowledged the whole batch, so a bridge killed
at any point publishes again what it was publishing (consumers dedupe by event id) and
loses nothing. A broker that cannot be reached is waited for, with a clear log line and
a growing pause; SIGTERM stops the loop between batches or while it waits.
"""

import logging
import threading
from typing import Protocol

from django.db import DatabaseError, close_old_connections

from ..conf import events_settings
from ..models import BridgeCheckpoint
from .checkpoint import batch_read, checkpoint_advance, checkpoint_get, checkpoint_record_error
from .cloudevents import StoredEvent
from .config import BridgeConfig

logger = logging.getLogger(__name__)


class Unreachable(Exception):
    """The broker did not answer; the message says where and why."""


class PublishFailed(Exception):
    """The broker did not acknowledge every message of a batch."""


class Interrupted(Exception):
    """Asked to stop while waiting for the broker's acknowledgement."""


class Publisher(Protocol):
    description: str

    def connect(self) -> None:
        """Check the broker answers; raise ``Unreachable`` if not."""

    def publish(self, events: list[StoredEvent], stop: threading.Event) -> None:
        """Publish in order and return once every message is acknowledged."""

    def reset(self) -> None:
        """Drop the connection after a failure; the next publish starts afresh."""

    def close(self) -> None: ...


class Backoff:
    """Seconds to wait before the next try: doubling from the first, up to the maximum."""

    def __init__(self) -> None:
        self.delay = 0.0

    def next(self) -> float:
        first = events_settings.BRIDGE_RETRY_SECONDS
        self.delay = min(self.delay * 2 or first, events_settings.BRIDGE_MAX_RETRY_SECONDS)
        return self.delay

    def reset(self) -> None:
        self.delay = 0.0


class BridgeRunner:
    def __init__(self, bridge: BridgeConfig, publisher: Publisher, stop: threading.Event) -> None:
        self.bridge = bridge
        self.publisher = publisher
        self.stop = stop
        self.backoff = Backoff()

    def run(self) -> None:
        """Publish until ``stop`` is set."""
        if not self._connect():
            logger.info("Bridge %s stopped before its broker answered", self.bridge.name)
            return
        logger.info(
            "Bridge %s started: publishing to %s", self.bridge.name, self.publisher.description
        )
        try:
            while not self.stop.is_set():
                try:
                    idle = self._step()
                except Interrupted:
                    break
                except DatabaseError as exc:
                    logger.warning(
                        "Bridge %s: database error (%s); retrying", self.bridge.name, exc
                    )
                    close_old_connections()
                    self.stop.wait(self.backoff.next())
                    continue
                if idle:
                    self.stop.wait(events_settings.BRIDGE_POLL_SECONDS)
        finally:
            self.publisher.close()
        logger.info("Bridge %s stopped", self.bridge.name)

    def _connect(self) -> bool:
        while not self.stop.is_set():
            try:
                self.publisher.connect()
                self.backoff.reset()
                return True
            except Unreachable as exc:
                delay = self.backoff.next()
                logger.warning("Bridge %s: %s; trying again in %.0fs", self.bridge.name, exc, delay)
                self.stop.wait(delay)
        return False

    def _step(self) -> bool:
        """One batch; True when there was nothing to do."""
        checkpoint = checkpoint_get(bridge=self.bridge)
        if checkpoint.paused:
            return True
        batch = batch_read(bridge=self.bridge, checkpoint=checkpoint)
        if not batch.moves:
            return True
        if batch.events and not self._publish(checkpoint, batch.events):
            return False
        if not checkpoint_advance(checkpoint=checkpoint, batch=batch):
            logger.warning(
                "Bridge %s: its checkpoint was moved by another process", self.bridge.name
            )
        if self.backoff.delay:
            logger.info(
                "Bridge %s: %s acknowledges again", self.bridge.name, self.publisher.description
            )
        self.backoff.reset()
        return False

    def _publish(self, checkpoint: BridgeCheckpoint, events: list[StoredEvent]) -> bool:
        try:
            self.publisher.publish(events, self.stop)
            return True
        except PublishFailed as exc:
            delay = self.backoff.next()
            logger.warning(
                "Bridge %s: %s did not acknowledge a batch of %s (%s); again in %.0fs",
                self.bridge.name,
                self.publisher.description,
                len(events),
                exc,
                delay,
            )
            checkpoint_record_error(checkpoint=checkpoint, error=str(exc))
            self.publisher.reset()
            self.stop.wait(delay)
            return False
