"""A simulated payment gateway with test tokens, as real gateways offer.

- ``tok_ok`` succeeds;
- ``tok_decline`` is declined (permanent: no retry);
- ``tok_flaky`` answers "unavailable" (transient) to its first two calls, then succeeds;
- ``tok_async`` is accepted as pending: the gateway confirms later by calling
  ``POST /api/payments/callback/`` with a signed body (see ``sign`` and ``callback_body``).

Charges are idempotent by key, as with real providers: a retried or redelivered charge
never takes the money twice. Its ledger lives in its own table and commits on its own,
as the provider's side would.
"""

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from django.conf import settings
from django.db import transaction

from .models import GatewayCharge

TEST_TOKENS = ("tok_ok", "tok_decline", "tok_flaky", "tok_async")
FLAKY_FAILURES = 2
SIGNATURE_HEADER = "X-Gateway-Signature"


class CallbackStatus(StrEnum):
    """The outcome of a pending charge, as the gateway's callback tells it."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"


class GatewayError(Exception):
    pass


class PaymentDeclined(GatewayError):
    """The card was declined: retrying will not help."""


class GatewayUnavailable(GatewayError):
    """A transient failure (timeout, 503): retrying may succeed."""


@dataclass(frozen=True)
class Charge:
    id: str
    pending: bool


def charge(*, token: str, amount: Decimal, idempotency_key: str) -> Charge:
    """Take ``amount``. Raises PaymentDeclined or GatewayUnavailable.

    A pending charge (``tok_async``) is settled later by the gateway's callback.
    """
    if token not in TEST_TOKENS:
        raise PaymentDeclined(f"Unknown payment token {token!r}.")
    with transaction.atomic():
        row, _ = GatewayCharge.objects.select_for_update().get_or_create(
            idempotency_key=idempotency_key,
            defaults={
                "charge_id": f"ch_{uuid.uuid4().hex[:20]}",
                "token": token,
                "amount": amount,
                "status": GatewayCharge.Status.UNAVAILABLE,
            },
        )
        if row.status in (
            GatewayCharge.Status.CAPTURED,
            GatewayCharge.Status.REFUNDED,
            GatewayCharge.Status.PENDING,
        ):
            return Charge(id=row.charge_id, pending=row.status == GatewayCharge.Status.PENDING)
        row.calls += 1
        if token == "tok_decline":
            row.status = GatewayCharge.Status.DECLINED
        elif token == "tok_flaky" and row.calls <= FLAKY_FAILURES:
            row.status = GatewayCharge.Status.UNAVAILABLE
        elif token == "tok_async":
            row.status = GatewayCharge.Status.PENDING
        else:
            row.status = GatewayCharge.Status.CAPTURED
        row.save(update_fields=["calls", "status", "updated_at"])
    if row.status == GatewayCharge.Status.DECLINED:
        raise PaymentDeclined("Card declined by the issuer.")
    if row.status == GatewayCharge.Status.UNAVAILABLE:
        raise GatewayUnavailable(f"Gateway unavailable (call {row.calls}); try again.")
    return Charge(id=row.charge_id, pending=row.status == GatewayCharge.Status.PENDING)


def settle(*, charge_id: str, succeeded: bool) -> None:
    """The gateway's side of a callback: a pending charge is captured or declined."""
    GatewayCharge.objects.filter(charge_id=charge_id, status=GatewayCharge.Status.PENDING).update(
        status=GatewayCharge.Status.CAPTURED if succeeded else GatewayCharge.Status.DECLINED
    )


def refund(*, charge_id: str) -> None:
    """Give the money back (or void a pending charge); refunding twice is harmless."""
    GatewayCharge.objects.filter(
        charge_id=charge_id,
        status__in=[GatewayCharge.Status.CAPTURED, GatewayCharge.Status.PENDING],
    ).update(status=GatewayCharge.Status.REFUNDED)


def sign(body: bytes) -> str:
    """The signature the gateway sends with a callback: HMAC-SHA256 of the raw body."""
    secret = settings.PAYMENTS_WEBHOOK_SECRET.encode()
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def signature_valid(body: bytes, signature: str) -> bool:
    """Whether ``signature`` signs ``body``; False, never an error, for any header value.

    ``hmac.compare_digest`` raises on a str with non-ASCII characters, and a header can
    carry any byte: the comparison is of bytes.
    """
    given = (signature or "").encode("utf-8", "surrogateescape")
    return hmac.compare_digest(sign(body).encode("ascii"), given)


def callback_body(*, charge_id: str, succeeded: bool, reason: str = "") -> bytes:
    """The body the gateway posts to the callback endpoint (used by tests and demos)."""
    status = CallbackStatus.SUCCEEDED if succeeded else CallbackStatus.FAILED
    return json.dumps({"charge_id": charge_id, "status": status, "reason": reason}).encode()
