"""``manage.py consume kafka --topic T`` / ``consume sqs --queue Q``: take outside events in."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from .bridge import stop_on_signals


class Command(BaseCommand):
    help = (
        "Take CloudEvents in from Kafka topics or an SQS queue: checked against the event "
        "catalog, stored once with their effects, refused ones kept as inbound dead letters."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sources = parser.add_subparsers(dest="transport", required=True)
        kafka = sources.add_parser("kafka", help="Consume Kafka topics in a consumer group.")
        kafka.add_argument("--topic", action="append", required=True, help="Repeat for several.")
        kafka.add_argument("--group", default="fulfillment", help="Consumer group id.")
        kafka.add_argument(
            "--option",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="A librdkafka consumer option, e.g. session.timeout.ms=10000 (repeatable).",
        )
        sqs = sources.add_parser("sqs", help="Consume an SQS queue (name or URL).")
        sqs.add_argument("--queue", required=True)
        sqs.add_argument("--wait", type=int, default=5, help="Long-poll seconds (0-20).")

    def handle(self, *args: Any, **options: Any) -> None:
        stop = stop_on_signals()
        if options["transport"] == "kafka":
            from events.bridges.consumers import KafkaInbound

            pairs = [option.partition("=") for option in options["option"]]
            if any(not key or not sep for key, sep, _ in pairs):
                raise CommandError("--option takes KEY=VALUE, e.g. session.timeout.ms=10000.")
            try:
                consumer = KafkaInbound(
                    topics=options["topic"],
                    group=options["group"],
                    stop=stop,
                    options={key: value for key, _, value in pairs},
                )
            except LookupError as exc:
                raise CommandError(str(exc)) from None
            consumer.run()
            return
        if not 0 <= options["wait"] <= 20:
            raise CommandError("--wait is between 0 and 20 seconds.")
        from events.bridges.consumers import SqsInbound

        SqsInbound(queue=options["queue"], stop=stop, wait_seconds=options["wait"]).run()
