"""The event store from the command line: replay history, rebuild read models, list types,
trace one flow."""

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from events import projections, subscriptions, types
from events.services import event_replay
from events.traces import NothingToTrace, Story, flow_story

UNKNOWN_NAME = "{error}. Known: {names}."
AGGREGATE_NOT_TYPE_ID = "--aggregate takes TYPE:ID, e.g. order:42."


def _datetime(value: str) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None:
        raise ValueError(value)
    return parsed


class Command(BaseCommand):
    help = (
        "Replay history to a subscriber, rebuild a read model, list types and subscribers, "
        "or trace one flow."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(
            dest="action", required=True, metavar="{replay,rebuild,types,subscribers,trace}"
        )
        replay = sub.add_parser("replay", help="Deliver stored events to one subscriber again.")
        replay.add_argument("--subscriber", required=True, help="Registered subscriber name.")
        replay.add_argument("--since", type=_datetime, help="Only events since this ISO 8601 time.")
        replay.add_argument("--aggregate", help="Only this aggregate, as TYPE:ID (e.g. order:42).")
        rebuild = sub.add_parser("rebuild", help="Rebuild a read model from the whole history.")
        rebuild.add_argument("projection", help="Registered projection name.")
        sub.add_parser("types", help="The event type catalog.")
        sub.add_parser("subscribers", help="Registered subscribers and projections.")
        trace = sub.add_parser(
            "trace", help="The story of one flow: requests, events, deliveries, runs, steps."
        )
        trace.add_argument(
            "reference",
            help="A correlation id, an event or request id, an aggregate as TYPE:ID, or a "
            "bare aggregate id (e.g. an order id).",
        )

    def handle(self, *args: object, **options: object) -> None:
        action = options["action"]
        if action == "replay":
            self._replay(options)
        elif action == "trace":
            try:
                self._print_story(flow_story(reference=str(options["reference"])))
            except NothingToTrace as exc:
                raise CommandError(str(exc)) from exc
        elif action == "rebuild":
            try:
                count = projections.projection_rebuild(name=str(options["projection"]))
            except LookupError as exc:
                names = ", ".join(p.name for p in projections.all_projections())
                raise CommandError(UNKNOWN_NAME.format(error=exc, names=names)) from exc
            self.stdout.write(f"Rebuilt {options['projection']} from {count} events.")
        elif action == "types":
            for event_type in types.catalog():
                self.stdout.write(
                    f"{event_type.name} v{event_type.version} ({event_type.aggregate_type}): "
                    f"{event_type.description}"
                )
        else:
            rebuildable = {p.name for p in projections.all_projections()}
            for sub in subscriptions.all_subscribers():
                kind = "projection" if sub.name in rebuildable else "subscriber"
                listens = "every event" if sub.every_event else ", ".join(sorted(sub.event_types))
                self.stdout.write(f"{sub.name} [{kind}]: {listens}")

    def _replay(self, options: dict) -> None:
        aggregate_type = aggregate_id = None
        if options["aggregate"]:
            aggregate_type, sep, aggregate_id = str(options["aggregate"]).partition(":")
            if not sep or not aggregate_type or not aggregate_id:
                raise CommandError(AGGREGATE_NOT_TYPE_ID)
        try:
            count = event_replay(
                subscriber=str(options["subscriber"]),
                since=options["since"],
                aggregate_type=aggregate_type,
                aggregate_id=aggregate_id,
            )
        except LookupError as exc:
            names = ", ".join(s.name for s in subscriptions.all_subscribers())
            raise CommandError(UNKNOWN_NAME.format(error=exc, names=names)) from exc
        self.stdout.write(f"Queued {count} events for {options['subscriber']}.")

    def _print_story(self, story: Story) -> None:
        flows = ", ".join(str(correlation_id) for correlation_id in story.correlation_ids)
        self.stdout.write(f"Correlation {flows}")
        for line in story.lines:
            at = line.at.isoformat(sep=" ", timespec="milliseconds")
            task = f"  [task {line.task_id}]" if line.task_id else ""
            self.stdout.write(f"{at}  {line.kind:<12} {line.text}{task}")
