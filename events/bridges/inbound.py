"""Taking in an event from an outside broker: checked, stored and applied once.

One transaction holds the inbox row (unique per CloudEvents source and id), the event in
the store (with its outbox row) and every subscriber's delivery of it, run here as a
worker would run it; a duplicate finds the inbox row and changes nothing. A message that
fails the checks is kept as an ``InboundDeadLetter`` with the reason. Only then does the
consumer commit its offset or delete the message.
"""

import json
import logging
from dataclasses import dataclass, field
from enum import StrEnum

from django.db import IntegrityError, transaction

from ..models import InboundDeadLetter, InboundEvent
from ..services.delivery import deliveries_create, delivery_run
from ..services.emission import event_emit
from . import cloudevents

logger = logging.getLogger(__name__)


class InboundOutcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    DEAD_LETTERED = "dead_lettered"


@dataclass(frozen=True)
class InboundMessage:
    """One message as the consumer got it."""

    transport: str
    channel: str
    reference: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def unwrap_sns(body: bytes) -> bytes:
    """The published message, if ``body`` is SNS's notification wrapper (no raw delivery)."""
    try:
        wrapper = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return body
    if isinstance(wrapper, dict) and wrapper.get("Type") == "Notification" and "Message" in wrapper:
        return str(wrapper["Message"]).encode()
    return body


def inbound_receive(*, message: InboundMessage) -> InboundOutcome:
    """Store and apply the event ``message`` carries once, or dead-letter it with the reason.

    Raises only if the database fails: the consumer then leaves the message to come again.
    """
    try:
        external = cloudevents.decode(message.body)
    except cloudevents.InvalidMessage as exc:
        _dead_letter(message, str(exc))
        return InboundOutcome.DEAD_LETTERED
    try:
        return _take_in(message, external)
    except IntegrityError:
        # Another consumer took the same event in at the same moment: its copy stands.
        if InboundEvent.objects.filter(source=external.source, external_id=external.id).exists():
            return InboundOutcome.DUPLICATE
        raise


def _take_in(message: InboundMessage, external: cloudevents.ExternalEvent) -> InboundOutcome:
    with transaction.atomic():
        if InboundEvent.objects.filter(source=external.source, external_id=external.id).exists():
            return InboundOutcome.DUPLICATE
        event = event_emit(
            type=external.type,
            version=external.version,
            aggregate_id=external.aggregate_id,
            payload=external.payload,
            correlation_id=external.correlation_id,
        )
        InboundEvent.objects.create(
            source=external.source,
            external_id=external.id,
            event=event,
            transport=message.transport,
            channel=message.channel,
        )
        for event_id, subscriber in deliveries_create([(event.id, event.type)]):
            delivery_run(event_id=event_id, subscriber=subscriber)
    return InboundOutcome.ACCEPTED


def _dead_letter(message: InboundMessage, reason: str) -> None:
    InboundDeadLetter.objects.create(
        transport=message.transport,
        channel=message.channel,
        reference=message.reference,
        body=message.body.decode("utf-8", errors="replace"),
        headers=message.headers,
        reason=reason,
    )
    logger.warning(
        "Refused %s message %s from %s: %s",
        message.transport,
        message.reference,
        message.channel,
        reason,
    )
