"""The shipping carrier, reached over HTTP (its sandbox: ``python -m sandbox``).

Booking is idempotent by key, as with real carriers' APIs: a retry after a timeout or a
5xx books nothing twice and gets the same tracking number.
"""

from .outside_http import OutsideUnavailable, error_message, post

CARRIER = "sandbox-post"


class CarrierUnavailable(OutsideUnavailable):
    """A transient failure of the carrier: retrying with the same key may succeed."""


class CarrierRefused(Exception):
    """The carrier refused the request for good."""


def _post(path: str, *, key: str = ""):  # type: ignore[no-untyped-def]
    try:
        response = post(path, key=key)
    except OutsideUnavailable as exc:
        raise CarrierUnavailable(str(exc)) from exc
    if response.status_code >= 400:
        raise CarrierRefused(f"{path}: {response.status_code} {error_message(response)}")
    return response.json()


def book(*, idempotency_key: str) -> str:
    """Book a parcel; the same key always gives the same tracking number."""
    return str(_post("/v1/shipments", key=idempotency_key)["tracking_number"])


def cancel(*, tracking_number: str) -> None:
    """Cancel a booking that is no longer wanted (cancelling twice is harmless)."""
    _post(f"/v1/shipments/{tracking_number}/cancel")
