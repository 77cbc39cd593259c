"""Webhook subscriptions and their deliveries: create, change, fan events out, send again.

Sending itself (attempts, retries, disabling a failing subscription) is in
``webhook_sending``. Work for the workers leaves through ``events.dispatch`` by task
name, after commit; these services never import the tasks.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from events import types
from events.envelope import Envelope
from events.services import event_emit
from project.errors import Conflict

from ..models import WebhookDelivery, WebhookSubscription
from .webhook_sending import (
    DELIVER_WEBHOOK,
    UNFINISHED,
    queue_on_commit,
    unfinished_before,
    webhook_subscription_disable,
)
from .webhook_targets import TargetRefused, webhook_target_check

TEST_EVENT = "webhook.test"
# Events delivered only to the subscription they name, never fanned out.
DIRECT_EVENT_TYPES = frozenset({TEST_EVENT})

URL_INVALID = "Enter a valid http or https URL."
EVENT_TYPES_NOT_A_LIST = "Give a list of event type names, or an empty list for every type."
EVENT_TYPE_UNKNOWN = "Unknown event type: {name}."
SUBSCRIPTION_DISABLED = "The subscription is disabled: enable it first."
DELIVERY_ON_ITS_WAY = "The delivery is already on its way ({status})."
DELIVERY_WAITING = "The delivery waits for an earlier event of its aggregate."
DISABLED_BY_STAFF = "disabled by {by}"

EDITABLE = ("url", "event_types", "description", "ordered", "is_active")


def webhook_url_errors(url: str) -> list[str]:
    """What is wrong with ``url`` as a webhook target (the SSRF guard included)."""
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        return [URL_INVALID]
    try:
        webhook_target_check(url)
    except TargetRefused as exc:
        return [str(exc)]
    return []


def webhook_event_type_errors(event_types: Any) -> list[str]:
    if not isinstance(event_types, list) or not all(isinstance(n, str) for n in event_types):
        return [EVENT_TYPES_NOT_A_LIST]
    errors = []
    for name in event_types:
        try:
            types.get(name)
        except types.UnknownEventType:
            errors.append(EVENT_TYPE_UNKNOWN.format(name=name))
    return errors


def _validate(fields: dict[str, Any]) -> None:
    errors = {}
    if "url" in fields and (found := webhook_url_errors(fields["url"])):
        errors["url"] = found
    if "event_types" in fields and (found := webhook_event_type_errors(fields["event_types"])):
        errors["event_types"] = found
    if errors:
        raise ValidationError(errors)


def webhook_subscription_create(
    *,
    url: str,
    event_types: list[str] | None = None,
    description: str = "",
    ordered: bool = False,
) -> WebhookSubscription:
    """A new, active subscription with a fresh secret (``subscription.secret``)."""
    fields = {"url": url, "event_types": list(event_types or []), "description": description}
    _validate(fields)
    return WebhookSubscription.objects.create(**fields, ordered=ordered)


@transaction.atomic
def webhook_subscription_update(
    *, subscription: WebhookSubscription, by: str = "", **fields: Any
) -> WebhookSubscription:
    """Change what may change; switching ``is_active`` enables or disables it."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TypeError(f"Not editable: {sorted(unknown)}")
    _validate(fields)
    active = fields.pop("is_active", None)
    for name, value in fields.items():
        setattr(subscription, name, value)
    subscription.save()
    if active is True and not subscription.is_active:
        webhook_subscription_enable(subscription=subscription)
    elif active is False and subscription.is_active:
        reason = DISABLED_BY_STAFF.format(by=by or "staff")
        webhook_subscription_disable(subscription=subscription, reason=reason, alert=False)
    return subscription


def webhook_subscription_enable(*, subscription: WebhookSubscription) -> WebhookSubscription:
    """Send to it again, with its failure record cleared."""
    subscription.is_active = True
    subscription.consecutive_failures = 0
    subscription.failing_since = subscription.disabled_at = None
    subscription.disabled_reason = ""
    subscription.save()
    return subscription


def webhook_deliveries_create(*, event: Envelope) -> list[WebhookDelivery]:
    """One delivery of ``event`` per active subscription that wants it, queued after commit.

    Runs in the events subscriber's transaction, so each event fans out once. In an
    ordered subscription a delivery behind an unfinished one of the same aggregate waits.
    """
    if event.type in DIRECT_EVENT_TYPES:
        return []
    subscriptions = [sub for sub in WebhookSubscription.objects.active() if sub.wants(event.type)]
    ordered = [sub.pk for sub in subscriptions if sub.ordered]
    if ordered:  # taken in the same order as by a finishing delivery: no successor is missed
        list(WebhookSubscription.objects.select_for_update().filter(pk__in=ordered))
    created = []
    for sub in subscriptions:
        delivery, new = WebhookDelivery.objects.get_or_create(
            subscription=sub, event_id=event.id, defaults=_initial_state(sub, event)
        )
        if new:
            created.append(delivery)
            if delivery.status == WebhookDelivery.Status.PENDING:
                queue_on_commit(delivery)
    return created


def _initial_state(sub: WebhookSubscription, event: Envelope) -> dict[str, Any]:
    now = timezone.now()
    if sub.ordered and unfinished_before(
        sub, event.aggregate_type, event.aggregate_id, event.sequence
    ):
        return {"status": WebhookDelivery.Status.WAITING}
    return {"status": WebhookDelivery.Status.PENDING, "next_attempt_at": now, "queued_at": now}


@transaction.atomic
def webhook_test_send(
    *, subscription: WebhookSubscription, requested_by: str = ""
) -> WebhookDelivery:
    """Emit a ``webhook.test`` event and deliver it to this one subscription."""
    if not subscription.is_active:
        raise Conflict(SUBSCRIPTION_DISABLED)
    event = event_emit(
        type=TEST_EVENT,
        aggregate_id=subscription.pk,
        payload={"subscription_id": subscription.pk, "requested_by": requested_by},
    )
    now = timezone.now()
    delivery = WebhookDelivery.objects.create(
        subscription=subscription, event=event, next_attempt_at=now, queued_at=now
    )
    queue_on_commit(delivery)
    return delivery


@transaction.atomic
def webhook_delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send the delivery again now, in a new round of attempts, with the same webhook-id."""
    delivery = (
        WebhookDelivery.objects.select_for_update(of=("self",))
        .select_related("subscription")
        .get(pk=delivery.pk)
    )
    if not delivery.subscription.is_active:
        raise Conflict(SUBSCRIPTION_DISABLED)
    if delivery.status == WebhookDelivery.Status.WAITING:
        raise Conflict(DELIVERY_WAITING)
    if delivery.status in UNFINISHED - {WebhookDelivery.Status.FAILED}:
        raise Conflict(DELIVERY_ON_ITS_WAY.format(status=delivery.get_status_display().lower()))
    now = timezone.now()
    delivery.status = WebhookDelivery.Status.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = delivery.queued_at = now
    delivery.save()
    queue_on_commit(delivery)
    return delivery


__all__ = [
    "DELIVER_WEBHOOK",
    "webhook_deliveries_create",
    "webhook_delivery_redeliver",
    "webhook_event_type_errors",
    "webhook_subscription_create",
    "webhook_subscription_enable",
    "webhook_subscription_update",
    "webhook_test_send",
    "webhook_url_errors",
]
