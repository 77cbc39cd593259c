"""Inspect, replay or discard dead letters from the command line."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from events import selectors
from events.models import DeadLetter
from events.services import dead_letter_discard, dead_letter_replay
from events.services.dead_letters import DeadLetterNotOpen


class Command(BaseCommand):
    help = "List, replay or discard dead letters (deliveries that failed their last attempt)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{list,replay,discard}")
        listing = sub.add_parser("list", help="Show dead letters.")
        listing.add_argument(
            "--status", choices=DeadLetter.Status.values, default=DeadLetter.Status.OPEN
        )
        listing.add_argument("--subscriber", help="Only this subscriber's.")
        for name, text in (("replay", "Deliver again."), ("discard", "Give up for good.")):
            action = sub.add_parser(name, help=text)
            action.add_argument("ids", nargs="*", type=int, help="Dead letter ids.")
            action.add_argument("--all", action="store_true", help="Every open dead letter.")
            action.add_argument("--subscriber", help="With --all: only this subscriber's.")

    def handle(self, *args: object, **options: object) -> None:
        if options["action"] == "list":
            self._list(status=options["status"], subscriber=options["subscriber"])
            return
        service = dead_letter_replay if options["action"] == "replay" else dead_letter_discard
        dead_letters = self._select(options)
        failed = 0
        for dead_letter in dead_letters:
            try:
                service(dead_letter=dead_letter, by="manage.py")
            except DeadLetterNotOpen as exc:
                failed += 1
                self.stderr.write(str(exc))
                continue
            self.stdout.write(f"{options['action']}ed dead letter {dead_letter.pk}")
        if failed:
            raise CommandError(
                f"{failed} of {len(dead_letters)} could not be {options['action']}ed."
            )

    def _select(self, options: dict) -> list[DeadLetter]:
        dead_letters = selectors.dead_letter_list()
        if options["all"]:
            dead_letters = dead_letters.filter(status=DeadLetter.Status.OPEN)
            if options["subscriber"]:
                dead_letters = dead_letters.filter(delivery__subscriber=options["subscriber"])
            return list(dead_letters)
        if not options["ids"]:
            raise CommandError("Give dead letter ids, or --all.")
        found = {d.pk: d for d in dead_letters.filter(pk__in=options["ids"])}
        missing = sorted(set(options["ids"]) - set(found))
        if missing:
            raise CommandError(f"No dead letter with id {', '.join(map(str, missing))}.")
        return [found[pk] for pk in options["ids"]]

    def _list(self, *, status: str, subscriber: str | None) -> None:
        dead_letters = selectors.dead_letter_list().filter(status=status)
        if subscriber:
            dead_letters = dead_letters.filter(delivery__subscriber=subscriber)
        count = 0
        for dl in dead_letters:
            count += 1
            event = dl.delivery.event
            self.stdout.write(
                f"{dl.pk:>6}  {dl.created_at:%Y-%m-%d %H:%M:%S}  {dl.delivery.subscriber}  "
                f"{event.type} {event.aggregate_type}:{event.aggregate_id}#{event.sequence}  "
                f"{dl.error.splitlines()[0] if dl.error else ''}"
            )
        self.stdout.write(f"{count} {status} dead letter(s).")
