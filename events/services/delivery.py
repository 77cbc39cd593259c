"""Dispatching an event to its subscribers and running one delivery, at most once in effect."""

import logging
import time
import traceback
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from .. import dispatch, instruments, subscriptions
from ..conf import events_settings
from ..context import caused_by
from ..envelope import Envelope
from ..models import DeadLetter, Delivery, DeliveryAttempt, Event, SubscriberCursor

logger = logging.getLogger(__name__)

DONE = (Delivery.Status.SUCCEEDED, Delivery.Status.DISCARDED)
# Not run again by a stray copy: done, or dead and waiting for an operator's replay.
SETTLED = (*DONE, Delivery.Status.DEAD)


class DeliveryResult(StrEnum):
    """What one run of a delivery came to (the first four are also ``Delivery.Status``)."""

    SUCCEEDED = Delivery.Status.SUCCEEDED.value
    WAITING = Delivery.Status.WAITING.value
    FAILED = Delivery.Status.FAILED.value
    DEAD = Delivery.Status.DEAD.value
    DUPLICATE = "duplicate"  # another copy settled it: this one did nothing


@dataclass(frozen=True)
class DeliveryOutcome:
    status: DeliveryResult
    retry_in: float | None = None
    event_type: str = ""


@dataclass(frozen=True)
class DeliveryTry:
    """One try of a delivery, as its attempt row records it."""

    task_id: str
    started_at: datetime
    clock: float

    def duration_ms(self) -> int:
        return int(self.seconds() * 1000)

    def seconds(self) -> float:
        return time.monotonic() - self.clock


def deliveries_create(events: list[tuple[uuid.UUID, str]]) -> list[tuple[uuid.UUID, str]]:
    """Create one delivery per (event, subscriber) for ``(event_id, event_type)`` pairs.

    Returns the pairs ``(event_id, subscriber)`` to deliver. Safe to run twice for one
    event: the deliveries are unique per (event, subscriber).
    """
    pairs = [
        (event_id, sub.name)
        for event_id, event_type in events
        for sub in subscriptions.for_event_type(event_type)
    ]
    Delivery.objects.bulk_create(
        [Delivery(event_id=event_id, subscriber=name) for event_id, name in pairs],
        ignore_conflicts=True,
    )
    return pairs


def delivery_run(
    *, event_id: uuid.UUID | str, subscriber: str, task_id: str = ""
) -> DeliveryOutcome:
    """Run one subscriber on one event, in one transaction with its inbox row.

    A delivery already succeeded (or discarded) is not run again. One whose predecessor
    (the subscriber's previous event of the same aggregate) is not done yet waits, and
    is sent again when that one is done. A failure is recorded, then retried per the
    subscriber's policy or, after the last attempt, dead-lettered.
    """
    sub = subscriptions.get(subscriber)
    this_try = DeliveryTry(task_id=task_id, started_at=timezone.now(), clock=time.monotonic())
    outcome = _run(sub, event_id, this_try)
    if outcome.status not in (DeliveryResult.WAITING, DeliveryResult.DUPLICATE):
        instruments.delivery_tried(
            event_type=outcome.event_type,
            subscriber=sub.name,
            result=outcome.status,
            seconds=this_try.seconds(),
        )
    return outcome


def _run(
    sub: subscriptions.Subscriber, event_id: uuid.UUID | str, this_try: DeliveryTry
) -> DeliveryOutcome:
    """The try itself; :func:`delivery_run` counts what it came to."""
    subscriber = sub.name
    try:
        with transaction.atomic():
            # The event comes in the same query; only the delivery row is locked.
            delivery, _ = (
                Delivery.objects.select_for_update(of=("self",))
                .select_related("event")
                .get_or_create(event_id=event_id, subscriber=subscriber)
            )
            if delivery.status in SETTLED:
                return DeliveryOutcome(status=DeliveryResult.DUPLICATE)
            event = delivery.event
            cursor = _lock_cursor(sub.name, event)
            if cursor.last_sequence != event.sequence - 1 and not _predecessor_done(sub, event):
                _wait_for_predecessor(delivery, cursor)
                return DeliveryOutcome(status=DeliveryResult.WAITING)
            with caused_by(
                correlation_id=event.correlation_id, causation_id=event.id, event_id=event.id
            ):
                sub.handler(Envelope.from_event(event))
            _record_success(delivery, this_try)
            _advance_cursor(cursor, sub.name, event)
        return DeliveryOutcome(status=DeliveryResult.SUCCEEDED, event_type=event.type)
    except Exception as exc:
        return delivery_record_failure(sub=sub, event_id=event_id, exc=exc, this_try=this_try)


def _wait_for_predecessor(delivery: Delivery, cursor: SubscriberCursor) -> None:
    """Park the delivery; the predecessor's success (or discard) sends it again."""
    if delivery.status != Delivery.Status.WAITING:
        delivery.status = Delivery.Status.WAITING
        delivery.save(update_fields=["status", "updated_at"])
    if not cursor.has_waiting:
        cursor.has_waiting = True
        cursor.save(update_fields=["has_waiting", "updated_at"])


def _record_success(delivery: Delivery, this_try: DeliveryTry) -> None:
    delivery.attempts += 1
    delivery.total_attempts += 1
    delivery.status = Delivery.Status.SUCCEEDED
    delivery.succeeded_at = timezone.now()
    delivery.last_error = ""
    delivery.retry_at = None
    delivery.save()
    DeliveryAttempt.objects.create(
        delivery=delivery,
        number=delivery.total_attempts,
        task_id=this_try.task_id,
        started_at=this_try.started_at,
        duration_ms=this_try.duration_ms(),
        succeeded=True,
    )


def _advance_cursor(cursor: SubscriberCursor, subscriber: str, event: Event) -> None:
    """Move the subscriber's cursor past the event and wake the next one if it waits."""
    cursor.last_sequence = max(cursor.last_sequence, event.sequence)
    # Most streams never have an early arrival: look for one only when one waited.
    if cursor.has_waiting:
        cursor.has_waiting = release_successor(subscriber=subscriber, event=event) or _any_waiting(
            subscriber, event
        )
    cursor.save(update_fields=["last_sequence", "has_waiting", "updated_at"])


_LOCK_CURSOR = f"""
INSERT INTO {SubscriberCursor._meta.db_table}
    (subscriber, aggregate_type, aggregate_id, last_sequence, has_waiting, updated_at)
VALUES (%s, %s, %s, 0, %s, %s)
ON CONFLICT (subscriber, aggregate_type, aggregate_id)
DO UPDATE SET updated_at = excluded.updated_at
RETURNING id, last_sequence, has_waiting
"""


def _lock_cursor(subscriber: str, event: Event) -> SubscriberCursor:
    """The (subscriber, aggregate) cursor, created if new and locked: one statement."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            _LOCK_CURSOR, [subscriber, event.aggregate_type, event.aggregate_id, False, now]
        )
        pk, last_sequence, has_waiting = cursor.fetchone()
    found = SubscriberCursor(
        pk=pk,
        subscriber=subscriber,
        aggregate_type=event.aggregate_type,
        aggregate_id=event.aggregate_id,
        last_sequence=last_sequence,
        has_waiting=bool(has_waiting),
        updated_at=now,
    )
    found._state.adding = False
    return found


def _predecessor_done(subscriber: subscriptions.Subscriber, event: Event) -> bool:
    """Whether the subscriber's previous event of the aggregate (if any) is done: one query."""
    done = (
        Event.objects.filter(
            subscriber.event_filter(),
            aggregate_type=event.aggregate_type,
            aggregate_id=event.aggregate_id,
            sequence__lt=event.sequence,
        )
        .order_by("-sequence")
        .annotate(
            done=Exists(
                Delivery.objects.filter(
                    event=OuterRef("pk"), subscriber=subscriber.name, status__in=DONE
                )
            )
        )
        .values_list("done", flat=True)
        .first()
    )
    return done is None or bool(done)


def _any_waiting(subscriber: str, event: Event) -> bool:
    """Whether any of the subscriber's events of this aggregate waits (a replay can leave
    one behind an event that just ran out of turn)."""
    return Delivery.objects.filter(
        subscriber=subscriber,
        status=Delivery.Status.WAITING,
        event__aggregate_type=event.aggregate_type,
        event__aggregate_id=event.aggregate_id,
    ).exists()


def release_successor(*, subscriber: str, event: Event) -> bool:
    """After commit, send the subscriber's next waiting event of this aggregate, if any.

    Returns whether one was waiting.
    """
    waiting = (
        Delivery.objects.filter(
            subscriber=subscriber,
            status=Delivery.Status.WAITING,
            event__aggregate_type=event.aggregate_type,
            event__aggregate_id=event.aggregate_id,
            event__sequence__gt=event.sequence,
        )
        .order_by("event__sequence")
        .values_list("event_id", flat=True)
        .first()
    )
    if waiting is None:
        return False
    dispatch.delivery_on_commit(waiting, subscriber)
    return True


def delivery_record_failure(
    *,
    sub: subscriptions.Subscriber,
    event_id: uuid.UUID | str,
    exc: Exception,
    this_try: DeliveryTry,
) -> DeliveryOutcome:
    """Record a failed try: retry per the subscriber's policy, or dead-letter it.

    A failure that lands after another copy of the delivery settled it changes nothing:
    its handler's work rolled back, and the other copy's success stands.
    """
    duration_ms = this_try.duration_ms()
    error = f"{type(exc).__name__}: {exc}"
    tb = "".join(traceback.format_exception(exc))
    with transaction.atomic():
        delivery, _ = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("event")
            .get_or_create(event_id=event_id, subscriber=sub.name)
        )
        if delivery.status in SETTLED:
            return DeliveryOutcome(status=DeliveryResult.DUPLICATE)
        delivery.attempts += 1
        delivery.total_attempts += 1
        delivery.last_error = error
        DeliveryAttempt.objects.create(
            delivery=delivery,
            number=delivery.total_attempts,
            task_id=this_try.task_id,
            started_at=this_try.started_at,
            duration_ms=duration_ms,
            succeeded=False,
            error=error,
            traceback=tb,
        )
        if sub.should_retry(exc, delivery.attempts):
            return _schedule_retry(delivery, sub)
        delivery.status = Delivery.Status.DEAD
        delivery.retry_at = None
        delivery.save()
        DeadLetter.objects.create(delivery=delivery, error=error, traceback=tb)
    logger.error(
        "%s gave up on %s after %s attempts: %s", sub.name, event_id, delivery.attempts, error
    )
    return DeliveryOutcome(status=DeliveryResult.DEAD, event_type=delivery.event.type)


def _schedule_retry(delivery: Delivery, sub: subscriptions.Subscriber) -> DeliveryOutcome:
    """Mark the delivery failed with its retry due after the subscriber's backoff."""
    delay = sub.retry_delay(delivery.attempts)
    delivery.status = Delivery.Status.FAILED
    delivery.retry_at = timezone.now() + timedelta(seconds=delay)
    delivery.save()
    logger.warning(
        "%s failed on %s (attempt %s): %s",
        sub.name,
        delivery.event_id,
        delivery.attempts,
        delivery.last_error,
    )
    return DeliveryOutcome(
        status=DeliveryResult.FAILED, retry_in=delay, event_type=delivery.event.type
    )


def delivery_resume_stalled() -> int:
    """Send again deliveries whose message was lost; return how many.

    That is: dispatched long ago and never run, waiting long after their predecessor was
    done (the message that should have woken them was lost), or failed with a retry long
    overdue (the retry message was lost with its worker, or refused by the broker). Each
    one resent counts as fresh again, so the next pass leaves it alone for a while.
    """
    now = timezone.now()
    cutoff = now - timedelta(seconds=events_settings.WORKFLOW_STALL_SECONDS)
    stalled = Delivery.objects.filter(
        Q(status__in=[Delivery.Status.PENDING, Delivery.Status.WAITING], updated_at__lt=cutoff)
        | Q(status=Delivery.Status.FAILED, retry_at__lt=cutoff)
    ).select_related("event")
    resent: list[int] = []
    for delivery in stalled:
        if delivery.status == Delivery.Status.WAITING and not _predecessor_done(
            subscriptions.get(delivery.subscriber), delivery.event
        ):
            continue
        logger.warning(
            "Resending stalled delivery of %s to %s", delivery.event_id, delivery.subscriber
        )
        dispatch.delivery(delivery.event_id, delivery.subscriber)
        resent.append(delivery.pk)
    Delivery.objects.filter(pk__in=resent, status=Delivery.Status.FAILED).update(retry_at=now)
    Delivery.objects.filter(pk__in=resent).update(updated_at=now)
    return len(resent)
