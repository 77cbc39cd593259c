"""What an operator can do with a dead letter: replay it or discard it."""

from django.db import transaction
from django.utils import timezone

from .. import dispatch
from ..models import DeadLetter, Delivery
from .delivery import release_successor

NOT_OPEN = "Dead letter {pk} is already {status}."


class DeadLetterNotOpen(Exception):
    """Only an open dead letter can be replayed or discarded."""


def _resolve(dead_letter: DeadLetter, *, status: str, by: str) -> DeadLetter:
    locked = (
        DeadLetter.objects.select_for_update().select_related("delivery").get(pk=dead_letter.pk)
    )
    if locked.status != DeadLetter.Status.OPEN:
        raise DeadLetterNotOpen(NOT_OPEN.format(pk=locked.pk, status=locked.status))
    locked.status = status
    locked.resolved_at = timezone.now()
    locked.resolved_by = by
    locked.save(update_fields=["status", "resolved_at", "resolved_by"])
    return locked


@transaction.atomic
def dead_letter_replay(*, dead_letter: DeadLetter, by: str = "") -> DeadLetter:
    """Send the delivery again with a fresh retry budget; the inbox keeps its effect to one."""
    locked = _resolve(dead_letter, status=DeadLetter.Status.REPLAYED, by=by)
    delivery = locked.delivery
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.PENDING, attempts=0)
    # Broker down: the delivery stays pending, visible in the admin, and the watchdog resends it.
    dispatch.delivery_on_commit(delivery.event_id, delivery.subscriber)
    return locked


@transaction.atomic
def dead_letter_discard(*, dead_letter: DeadLetter, by: str = "") -> DeadLetter:
    """Give up on the delivery for good: a late redelivery will not run it either."""
    locked = _resolve(dead_letter, status=DeadLetter.Status.DISCARDED, by=by)
    Delivery.objects.filter(pk=locked.delivery_id).update(status=Delivery.Status.DISCARDED)
    # Later events of the aggregate waited behind this one: let the next one go.
    release_successor(subscriber=locked.delivery.subscriber, event=locked.delivery.event)
    return locked
