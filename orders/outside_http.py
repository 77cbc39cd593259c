"""The one HTTP client to the outside world (the payment provider's and carrier's sandbox).

Every call has connect and read timeouts (``ORDERS["SANDBOX_*_TIMEOUT_SECONDS"]``). A
timeout, a connection error or a 5xx answer is transient: ``OutsideUnavailable``, for the
caller to retry with the same idempotency key.

A guard keeps the rule "no outside call inside a database transaction" from being broken
again: with ``ORDERS["GUARD_OUTSIDE_CALLS"]`` on (DEBUG, and the test suite), a request
made inside ``transaction.atomic`` raises ``CallInsideTransaction`` before it is sent.
Inside an atomic block it asks Django with ``atomic(durable=True)``, which refuses to
nest in any atomic block except the ones a ``TestCase`` (pytest-django's ``db`` fixture)
wraps each test in, as Django documents for durable blocks.
"""

from typing import Any

import httpx
from django.conf import settings
from django.db import connection, transaction

from .conf import orders_settings


class OutsideUnavailable(Exception):
    """A transient failure of the outside world: retrying with the same key may succeed."""


class CallInsideTransaction(RuntimeError):
    """An outside call was made inside a database transaction (a bug in the caller)."""


def guard_outside_call(request: httpx.Request) -> None:
    """Refuse a request made inside an atomic block (when the guard is on)."""
    if not orders_settings.GUARD_OUTSIDE_CALLS or not connection.in_atomic_block:
        return
    try:
        with transaction.atomic(durable=True):
            pass
    except RuntimeError:
        raise CallInsideTransaction(
            f"{request.method} {request.url} was called inside a database transaction: "
            "make the call first, then record its outcome in a transaction of its own."
        ) from None


def client() -> httpx.Client:
    """A client to the sandbox at ``settings.SANDBOX_URL`` with the configured timeouts."""
    timeout = httpx.Timeout(
        connect=orders_settings.SANDBOX_CONNECT_TIMEOUT_SECONDS,
        read=orders_settings.SANDBOX_READ_TIMEOUT_SECONDS,
        write=orders_settings.SANDBOX_READ_TIMEOUT_SECONDS,
        pool=orders_settings.SANDBOX_CONNECT_TIMEOUT_SECONDS,
    )
    return httpx.Client(
        base_url=settings.SANDBOX_URL,
        timeout=timeout,
        event_hooks={"request": [guard_outside_call]},
    )


def post(path: str, *, key: str = "", json: dict[str, Any] | None = None) -> httpx.Response:
    """POST to the sandbox; a 5xx, a timeout or a refused connection is OutsideUnavailable.

    Other answers (2xx, 4xx) are returned for the caller to read.
    """
    headers = {"Idempotency-Key": key} if key else {}
    try:
        with client() as http:
            response = http.post(path, json=json or {}, headers=headers)
    except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
        raise OutsideUnavailable(f"POST {path}: {type(exc).__name__}: {exc}") from exc
    if response.status_code >= 500:
        raise OutsideUnavailable(f"POST {path}: {response.status_code} {_message(response)}")
    return response


def get(path: str, *, params: dict[str, str] | None = None) -> httpx.Response:
    """GET from the sandbox; failures are OutsideUnavailable as with ``post``."""
    try:
        with client() as http:
            response = http.get(path, params=params)
    except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
        raise OutsideUnavailable(f"GET {path}: {type(exc).__name__}: {exc}") from exc
    if response.status_code >= 500:
        raise OutsideUnavailable(f"GET {path}: {response.status_code} {_message(response)}")
    return response


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200]


def error_message(response: httpx.Response) -> str:
    """The sandbox's error message of a 4xx answer."""
    return _message(response)
