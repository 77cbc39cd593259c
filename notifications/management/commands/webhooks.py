"""List webhook deliveries, or send one again, from the command line."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from project.errors import ApplicationError

from ...models import WebhookDelivery
from ...services import webhook_delivery_redeliver


class Command(BaseCommand):
    help = "List webhook deliveries, or redeliver them (same webhook-id, a new round of attempts)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{list,redeliver}")
        listing = sub.add_parser("list", help="Show the latest deliveries, newest first.")
        listing.add_argument("--status", choices=WebhookDelivery.Status.values)
        listing.add_argument("--subscription", type=int, help="Only this subscription's.")
        listing.add_argument("--limit", type=int, default=50, help="At most this many (50).")
        again = sub.add_parser("redeliver", help="Send deliveries again now.")
        again.add_argument("ids", nargs="+", type=int, help="Delivery ids.")

    def handle(self, *args: object, **options: object) -> None:
        if options["action"] == "list":
            self._list(options)
        else:
            self._redeliver(options["ids"])  # type: ignore[arg-type]

    def _list(self, options: dict) -> None:
        deliveries = WebhookDelivery.objects.select_related("event", "subscription")
        if options["status"]:
            deliveries = deliveries.filter(status=options["status"])
        if options["subscription"]:
            deliveries = deliveries.filter(subscription_id=options["subscription"])
        count = 0
        for d in deliveries[: options["limit"]]:
            count += 1
            code = d.last_status_code or "-"
            self.stdout.write(
                f"{d.pk:>6}  {d.created_at:%Y-%m-%d %H:%M:%S}  sub {d.subscription_id}  "
                f"{d.event.type} {d.event_id}  {d.status}  attempts {d.attempts}  last {code}"
                + (f"  {d.last_error.splitlines()[0]}" if d.last_error else "")
            )
        self.stdout.write(f"{count} delivery(ies).")

    def _redeliver(self, ids: list[int]) -> None:
        found = WebhookDelivery.objects.in_bulk(ids)
        missing = sorted(set(ids) - set(found))
        if missing:
            raise CommandError(f"No webhook delivery with id {', '.join(map(str, missing))}.")
        failed = 0
        for pk in ids:
            try:
                webhook_delivery_redeliver(delivery=found[pk])
            except ApplicationError as exc:
                failed += 1
                self.stderr.write(f"delivery {pk}: {exc.message}")
                continue
            self.stdout.write(f"redelivering delivery {pk} (webhook-id {found[pk].event_id})")
        if failed:
            raise CommandError(f"{failed} of {len(ids)} could not be redelivered.")
