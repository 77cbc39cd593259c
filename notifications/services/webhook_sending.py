"""Sending one webhook delivery: claim it, POST it outside any transaction, record the end.

A delivery row is its own schedule: ``next_attempt_at`` says when the next attempt is
due. A retry due soon is also sent with a Celery countdown; the beat task
(``webhook_send_due``) sends whatever is due and was not, or whose message was lost.
Each attempt is a row, opened when claimed and closed with the answer, so a worker that
dies mid-request leaves an attempt marked lost, and a copy of the message that lost the
claim changes nothing.
"""

import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from events import dispatch
from events.models import Event
from events.serializers import EnvelopeSerializer

from ..conf import notifications_settings as conf
from ..models import Notification, WebhookAttempt, WebhookDelivery, WebhookSubscription
from .alerts import staff_alert
from .webhook_http import PostResult, webhook_post
from .webhook_signing import webhook_headers
from .webhook_targets import TargetRefused, webhook_target_check

logger = logging.getLogger(__name__)

# Task names (notifications/tasks.py declares the tasks under them).
DELIVER_WEBHOOK = "notifications.deliver_webhook"
SEND_DUE_WEBHOOKS = "notifications.send_due_webhooks"

Status = WebhookDelivery.Status
FINISHED = frozenset({Status.SUCCEEDED, Status.GIVEN_UP})
UNFINISHED = frozenset({Status.PENDING, Status.WAITING, Status.SENDING, Status.FAILED})
# A message may arrive this much before its attempt is due (clocks of other machines).
EARLY_TOLERANCE = timedelta(seconds=1)

REFUSED = "Refused before sending: {reason}"
LOST = "Lost: the worker stopped before the attempt ended."
GIVEN_UP_DISABLED = "Given up: the subscription is disabled."
DISABLED_AFTER_FAILURES = "{count} deliveries in a row were given up"
DISABLED_FAILING_TOO_LONG = "its deliveries have failed since {since:%Y-%m-%d %H:%M} UTC"


@dataclass(frozen=True)
class SendOutcome:
    """What one run of the send task came to; ``retry_in`` asks for a countdown retry."""

    status: str
    retry_in: float | None = None


@dataclass(frozen=True)
class Claim:
    delivery_id: int
    attempt_id: int
    attempt_number: int
    subscription_id: int
    url: str
    secret: str
    event: Event


def queue_on_commit(delivery: WebhookDelivery) -> None:
    dispatch.send_on_commit(DELIVER_WEBHOOK, delivery_id=str(delivery.pk))


def unfinished_before(
    sub: WebhookSubscription, aggregate_type: str, aggregate_id: str, sequence: int
) -> bool:
    """Whether an earlier event of the aggregate is still unfinished for ``sub``."""
    return WebhookDelivery.objects.filter(
        subscription=sub,
        status__in=UNFINISHED,
        event__aggregate_type=aggregate_type,
        event__aggregate_id=aggregate_id,
        event__sequence__lt=sequence,
    ).exists()


def retry_delay(attempts: int) -> float | None:
    """Seconds to wait after ``attempts`` failed attempts, with jitter; None: give up."""
    schedule = conf.WEBHOOK_RETRY_SCHEDULE
    if attempts > len(schedule):
        return None
    jitter = conf.WEBHOOK_RETRY_JITTER
    return schedule[attempts - 1] * random.uniform(1 - jitter, 1 + jitter)


def webhook_delivery_send(*, delivery_id: int | str) -> SendOutcome:
    """Make the delivery's due attempt and record how it went."""
    claim = _claim(int(delivery_id))
    if claim is None:
        return SendOutcome(status="skipped")
    return _record(claim, _attempt(claim))


@transaction.atomic
def _claim(delivery_id: int) -> Claim | None:
    delivery = (
        WebhookDelivery.objects.select_for_update(of=("self",))
        .select_related("subscription", "event")
        .filter(pk=delivery_id)
        .first()
    )
    now = timezone.now()
    if delivery is None or not _claimable(delivery, now):
        return None
    if not delivery.subscription.is_active:
        _finish(delivery, Status.GIVEN_UP, error=GIVEN_UP_DISABLED)
        return None
    last = delivery.attempt_log.aggregate(last=Max("number"))["last"] or 0
    attempt = WebhookAttempt.objects.create(delivery=delivery, number=last + 1, started_at=now)
    delivery.status = Status.SENDING
    delivery.attempts += 1
    delivery.next_attempt_at = delivery.queued_at = None
    delivery.save()
    sub = delivery.subscription
    return Claim(
        delivery.pk, attempt.pk, attempt.number, sub.pk, sub.url, sub.secret, delivery.event
    )


def _claimable(delivery: WebhookDelivery, now: datetime) -> bool:
    if delivery.status == Status.SENDING:
        if delivery.updated_at > now - timedelta(seconds=conf.WEBHOOK_STALL_SECONDS):
            return False  # another copy is sending it right now
        delivery.attempt_log.filter(duration_ms__isnull=True).update(error=LOST)
        return True
    if delivery.status not in (Status.PENDING, Status.FAILED):
        return False
    return delivery.next_attempt_at is None or delivery.next_attempt_at <= now + EARLY_TOLERANCE


def webhook_body(event: Event) -> bytes:
    """The request body: the event's envelope, as the API serves it."""
    data = EnvelopeSerializer(event).data
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def _attempt(claim: Claim) -> PostResult:
    """The POST itself: no transaction is open here."""
    try:
        target = webhook_target_check(claim.url)
    except TargetRefused as exc:
        return PostResult(None, 0, REFUSED.format(reason=exc))
    body = webhook_body(claim.event)
    headers = webhook_headers(
        secret=claim.secret,
        msg_id=str(claim.event.id),
        timestamp=int(time.time()),
        body=body,
        user_agent=conf.WEBHOOK_USER_AGENT,
    )
    return webhook_post(target=target, body=body, headers=headers)


@transaction.atomic
def _record(claim: Claim, result: PostResult) -> SendOutcome:
    # Locks in one order everywhere: the subscription, then its delivery.
    sub = WebhookSubscription.objects.select_for_update().filter(pk=claim.subscription_id).first()
    deliveries = WebhookDelivery.objects.select_for_update().select_related("event")
    delivery = deliveries.filter(pk=claim.delivery_id).first()
    if sub is None or delivery is None:
        return SendOutcome(status="skipped")  # deleted with its subscription meanwhile
    WebhookAttempt.objects.filter(pk=claim.attempt_id).update(
        duration_ms=result.duration_ms,
        status_code=result.status_code,
        error=result.error,
        response_excerpt=result.response_excerpt,
    )
    owner = delivery.attempt_log.aggregate(last=Max("number"))["last"] == claim.attempt_number
    if delivery.status != Status.SENDING or not owner:
        return SendOutcome(status="skipped")  # a later claim took the delivery over
    delivery.last_status_code = result.status_code
    if result.succeeded:
        _finish(delivery, Status.SUCCEEDED, sub=sub)
        _reset_failures(sub)
        return SendOutcome(status=Status.SUCCEEDED)
    return _record_failure(sub, delivery, result.error)


def _record_failure(sub: WebhookSubscription, delivery: WebhookDelivery, error: str) -> SendOutcome:
    now = timezone.now()
    sub.failing_since = sub.failing_since or now
    delay = retry_delay(delivery.attempts)
    soon = delay is not None and delay <= conf.WEBHOOK_COUNTDOWN_LIMIT_SECONDS
    if delay is None:
        _finish(delivery, Status.GIVEN_UP, error=error, sub=sub)
        sub.consecutive_failures += 1
    else:
        delivery.status = Status.FAILED
        delivery.last_error = error
        delivery.next_attempt_at = now + timedelta(seconds=delay)
        delivery.queued_at = delivery.next_attempt_at if soon else None
        delivery.save()
    sub.save(update_fields=["failing_since", "consecutive_failures"])
    reason = _disable_reason(sub, now)
    if reason is not None:
        webhook_subscription_disable(subscription=sub, reason=reason)
        delivery.refresh_from_db(fields=["status"])
    if delivery.status == Status.FAILED:
        logger.warning("Webhook delivery %s failed, retry in %.1fs: %s", delivery.pk, delay, error)
        return SendOutcome(status=Status.FAILED, retry_in=delay if soon else None)
    logger.error("Webhook delivery %s given up: %s", delivery.pk, error)
    return SendOutcome(status=Status.GIVEN_UP)


def _disable_reason(sub: WebhookSubscription, now: datetime) -> str | None:
    if not sub.is_active:
        return None
    if sub.consecutive_failures >= conf.WEBHOOK_DISABLE_AFTER_FAILED_DELIVERIES:
        return DISABLED_AFTER_FAILURES.format(count=sub.consecutive_failures)
    too_long = timedelta(seconds=conf.WEBHOOK_DISABLE_AFTER_FAILING_SECONDS)
    if sub.failing_since is not None and now - sub.failing_since >= too_long:
        return DISABLED_FAILING_TOO_LONG.format(since=sub.failing_since)
    return None


def _reset_failures(sub: WebhookSubscription) -> None:
    if sub.consecutive_failures or sub.failing_since:
        sub.consecutive_failures = 0
        sub.failing_since = None
        sub.save(update_fields=["consecutive_failures", "failing_since"])


def _finish(
    delivery: WebhookDelivery,
    status: Status,
    *,
    error: str = "",
    sub: WebhookSubscription | None = None,
) -> None:
    """Succeeded or given up; in an ordered subscription the next one may go."""
    delivery.status = status
    delivery.last_error = error
    delivery.next_attempt_at = delivery.queued_at = None
    if status == Status.SUCCEEDED:
        delivery.delivered_at = timezone.now()
    delivery.save()
    if (sub or delivery.subscription).ordered:
        _release_successor(delivery)


def _release_successor(delivery: WebhookDelivery) -> None:
    """Queue the first waiting delivery of the aggregate with nothing unfinished before it."""
    event = delivery.event
    successor = (
        WebhookDelivery.objects.filter(
            subscription_id=delivery.subscription_id,
            status=Status.WAITING,
            event__aggregate_type=event.aggregate_type,
            event__aggregate_id=event.aggregate_id,
            event__sequence__gt=event.sequence,
        )
        .select_related("event")
        .order_by("event__sequence")
        .first()
    )
    if successor is None or unfinished_before(
        delivery.subscription, event.aggregate_type, event.aggregate_id, successor.event.sequence
    ):
        return
    now = timezone.now()
    successor.status = Status.PENDING
    successor.next_attempt_at = successor.queued_at = now
    successor.save()
    queue_on_commit(successor)


def webhook_subscription_disable(
    *, subscription: WebhookSubscription, reason: str, alert: bool = True
) -> WebhookSubscription:
    """Stop sending to it: its unfinished deliveries are given up, and staff told."""
    now = timezone.now()
    subscription.is_active = False
    subscription.disabled_at = now
    subscription.disabled_reason = reason[:300]
    subscription.save()
    subscription.deliveries.filter(
        status__in=[Status.PENDING, Status.WAITING, Status.FAILED]
    ).update(
        status=Status.GIVEN_UP,
        last_error=GIVEN_UP_DISABLED,
        next_attempt_at=None,
        queued_at=None,
        updated_at=now,
    )
    logger.error("Webhook subscription %s disabled: %s", subscription.pk, reason)
    if alert:
        staff_alert(
            kind=Notification.Kind.WEBHOOK_DISABLED,
            context={"subscription_id": subscription.pk, "url": subscription.url, "reason": reason},
        )
    return subscription


def webhook_send_due() -> int:
    """Send the deliveries that are due and were not sent, or whose message was lost."""
    now = timezone.now()
    stale = now - timedelta(seconds=conf.WEBHOOK_STALL_SECONDS)
    not_queued = Q(queued_at__isnull=True) | Q(queued_at__lt=stale)
    due = WebhookDelivery.objects.filter(
        (Q(status__in=[Status.PENDING, Status.FAILED], next_attempt_at__lte=now) & not_queued)
        | (Q(status=Status.SENDING, updated_at__lt=stale) & not_queued)
    ).order_by("next_attempt_at")
    sent = []
    for pk in due.values_list("pk", flat=True)[: conf.WEBHOOK_SEND_DUE_BATCH_SIZE]:
        try:
            dispatch.send(DELIVER_WEBHOOK, delivery_id=str(pk))
        except Exception:
            logger.exception("Could not queue webhook delivery %s; the next pass will", pk)
            break
        sent.append(pk)
    WebhookDelivery.objects.filter(pk__in=sent).update(queued_at=now)
    return len(sent)
