"""The relay: publishes the outbox to the broker, as long as it runs."""

import logging
import signal
from types import FrameType

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from events.notify import waiter
from events.services.relay import outbox_lag_seconds, outbox_publish

logger = logging.getLogger("events.relay")


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
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        wake = waiter()
        logger.info("Relay started (interval %.2fs, batch %d)", interval, batch_size)
        try:
            while self._running:
                close_old_connections()
                published = outbox_publish(limit=batch_size)
                if published:
                    logger.info("Published %d events; lag %.2fs", published, outbox_lag_seconds())
                if once and published < batch_size:
                    break
                if published < batch_size:
                    wake.wait(interval)
        finally:
            wake.close()
        logger.info("Relay stopped")

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self._running = False
