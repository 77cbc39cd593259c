"""The payment provider, reached over HTTP (its sandbox: ``python -m sandbox``).

Test tokens, as real providers offer: ``tok_ok`` succeeds; ``tok_decline`` is declined
(permanent: no retry); ``tok_flaky`` fails transiently twice per idempotency key, then
succeeds; ``tok_async`` is accepted as pending, and the provider confirms it later by
POSTing a signed body to ``/api/payments/callback/`` (see ``sign``).

A charge is keyed by ``charge_key(order)``: a retry after a timeout or a 5xx sends the
same key, so the provider's ledger shows one charge whatever happened on the way.
"""

import hashlib
import hmac
import json
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from django.conf import settings

from .outside_http import OutsideUnavailable, error_message, get, post

if TYPE_CHECKING:
    from .models import Order

TEST_TOKENS = ("tok_ok", "tok_decline", "tok_flaky", "tok_async")
SIGNATURE_HEADER = "X-Gateway-Signature"


class CallbackStatus(StrEnum):
    """The outcome of a pending charge, as the gateway's callback tells it."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"


class GatewayError(Exception):
    pass


class PaymentDeclined(GatewayError):
    """The card was declined: retrying will not help."""


class GatewayUnavailable(GatewayError, OutsideUnavailable):
    """A transient failure (timeout, connection refused, 5xx): retrying may succeed."""


class GatewayRefused(GatewayError):
    """The provider refused the request for good (a 4xx other than a decline)."""


@dataclass(frozen=True)
class Charge:
    id: str
    pending: bool
    status: str = ""  # the provider's: pending, succeeded, failed, refunded, canceled


def charge_key(order: "Order") -> str:
    """The order's charge idempotency key: stable across retries, unique across databases."""
    return f"charge-order-{order.pk}-{int(order.created_at.timestamp() * 1_000_000)}"


def _post(path: str, *, key: str = "", body: dict | None = None):  # type: ignore[no-untyped-def]
    try:
        return post(path, key=key, json=body)
    except OutsideUnavailable as exc:
        raise GatewayUnavailable(str(exc)) from exc


def charge(*, token: str, amount: Decimal, idempotency_key: str) -> Charge:
    """Take ``amount``. Raises PaymentDeclined, GatewayUnavailable or GatewayRefused.

    A pending charge (``tok_async``) is settled later by the provider's callback.
    """
    response = _post(
        "/v1/charges", key=idempotency_key, body={"token": token, "amount": str(amount)}
    )
    if response.status_code == 402:
        raise PaymentDeclined(error_message(response))
    if response.status_code >= 400:
        raise GatewayRefused(f"Charge refused: {response.status_code} {error_message(response)}")
    body = response.json()
    return Charge(id=body["id"], pending=body["status"] == "pending", status=body["status"])


def find_charge(*, idempotency_key: str) -> Charge | None:
    """The charge made with this key, if any: what a request whose answer was lost did."""
    try:
        response = get("/v1/charges", params={"idempotency_key": idempotency_key})
    except OutsideUnavailable as exc:
        raise GatewayUnavailable(str(exc)) from exc
    for body in response.json()["data"]:
        return Charge(id=body["id"], pending=body["status"] == "pending", status=body["status"])
    return None


def refund(*, charge_id: str) -> str:
    """Give the money back (or void a pending charge); refunding twice is harmless.

    Returns the charge's status at the provider afterwards (``refunded``, ``canceled``).
    """
    response = _post(f"/v1/charges/{charge_id}/refund", key=f"refund-{charge_id}")
    if response.status_code >= 400:
        raise GatewayRefused(f"Refund refused: {response.status_code} {error_message(response)}")
    return str(response.json()["status"])


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
    """The body the gateway posts to the callback endpoint (the sandbox sends the same)."""
    status = CallbackStatus.SUCCEEDED if succeeded else CallbackStatus.FAILED
    return json.dumps({"charge_id": charge_id, "status": status, "reason": reason}).encode()
