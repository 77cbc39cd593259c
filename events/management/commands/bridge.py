"""``manage.py bridge NAME``: run one outbound bridge (``kafka``, ``sns``) until SIGTERM."""

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from events.bridges import config
from events.bridges.runner import BridgeRunner, Publisher


def publisher_for(bridge: config.BridgeConfig) -> Publisher:
    if bridge.transport == config.KAFKA:
        from events.bridges.kafka import KafkaPublisher

        return KafkaPublisher(bridge)
    from events.bridges.sns import SnsPublisher

    return SnsPublisher(bridge)


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT: the loop finishes its batch and returns."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop


class Command(BaseCommand):
    help = "Publish the event store to an outside broker through the bridge NAME."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="The bridge's name, e.g. kafka or sns.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            bridge = config.get(options["name"])
            publisher = publisher_for(bridge)
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        BridgeRunner(bridge, publisher, stop_on_signals()).run()
