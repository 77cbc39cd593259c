"""A simulated shipping carrier: books a parcel and returns its tracking number.

Booking is idempotent by key, as with real carriers' APIs, and takes
``ORDERS["CARRIER_LATENCY_SECONDS"]`` to answer (0 by default; a demo or a test can
slow it down to watch a workflow wait on the outside world).
"""

import hashlib
import time

from .conf import orders_settings

CARRIER = "simulated-post"


def book(*, idempotency_key: str) -> str:
    """Book a parcel; the same key always gives the same tracking number."""
    latency = orders_settings.CARRIER_LATENCY_SECONDS
    if latency:
        time.sleep(latency)
    return "SP" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:12].upper()


def cancel(*, tracking_number: str) -> None:
    """Cancel a booking that is no longer wanted (nothing to undo in the simulation)."""
