"""The relay: publishes the outbox to the broker, as long as it runs."""

import logging
import signal
import time
from types import FrameType

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import InterfaceError, OperationalError, close_old_connections

from events.notify import Waiter, waiter
from events.selectors import outbox_backlog
from events.services.relay import outbox_publish_round
from events.signals import relay_started, relay_stopped

logger = logging.getLogger("events.relay")

BROKER_REFUSED = "The broker refused a message; what was not published stays pending."


class Command(BaseCommand):
    help = (
        "Publish outbox rows to the broker until stopped. Several relays may run side by "
        "side: each row is claimed by one of them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="Seconds between polls when nothing wakes the relay (default 1).",
        )
        parser.add_argument("--batch-size", type=int, default=500, help="Rows per claim.")
        parser.add_argument(
            "--once", action="store_true", help="Publish what is pending, then exit."
        )

    def handle(
        self, *args: object, interval: float, batch_size: int, once: bool, **options: object
    ) -> None:
        if interval <= 0 or batch_size <= 0:
            self.stderr.write("--interval and --batch-size must be positive.")
            raise SystemExit(2)
        self._running = True
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        self._waiter: Waiter | None = None
        # While the broker refuses, each poll offers it one row, not a whole batch: the
        # outage costs a one-row claim per interval, and the first success ends it.
        broker_down = False
        relay_started.send(sender=self.__class__)
        logger.info("Relay started (interval %.2fs, batch %d)", interval, batch_size)
        try:
            while self._running:
                close_old_connections()
                limit = 1 if broker_down else batch_size
                try:
                    published, refused = outbox_publish_round(limit=limit)
                except (OperationalError, InterfaceError) as exc:
                    if once:
                        raise CommandError(f"The outbox could not be read: {exc}") from exc
                    # A locked or restarting database is passing trouble: the rows stay
                    # pending, and a relay that died here would take `make run` down with it.
                    logger.warning("Outbox claim failed (%s); retrying in %.2fs", exc, interval)
                    published, refused = 0, broker_down
                if published:
                    lag = outbox_backlog().lag_seconds
                    logger.info("Published %d events; lag %.2fs", published, lag)
                if refused and once:
                    raise CommandError(BROKER_REFUSED)
                # Only a message that went out ends an outage: an empty claim (nothing
                # pending, or every row held by another relay) says nothing of the broker.
                if refused and not broker_down:
                    broker_down = True
                    logger.warning("Broker refuses messages; offering one row per poll")
                elif broker_down and published and not refused:
                    broker_down = False
                    logger.info("Broker takes messages again")
                if published < limit:
                    if once:
                        break
                    self._wait(interval)
        finally:
            relay_stopped.send(sender=self.__class__)
            self._close_waiter()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        logger.info("Relay stopped")

    def _wait(self, interval: float) -> None:
        """Sleep until woken or the interval passes; a lost listener is reopened next time."""
        try:
            if self._waiter is None:
                self._waiter = waiter()
            self._waiter.wait(interval)
        except (OperationalError, InterfaceError) as exc:
            logger.warning("Outbox listener lost (%s); polling", exc)
            self._close_waiter()
            time.sleep(interval)

    def _close_waiter(self) -> None:
        if self._waiter is not None:
            self._waiter.close()
            self._waiter = None

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self._running = False
