"""The ``ORDERS`` setting, read through one object with defaults.

``orders_settings.NAME`` reads ``settings.ORDERS`` on every access, so
``override_settings`` reaches it; read it where the value is used, not at import.
``orders_settings_problems`` says what is wrong with the setting; the app's system
check (``orders.checks``) reports it at start-up.
"""

from typing import Any

from events.conf import AppSettings

DEFAULTS: dict[str, Any] = {
    # An order still pending after this long never started fulfillment: it is failed.
    "PENDING_TTL_SECONDS": 30 * 60,
    # The most lines one order may have, and the most units on one line.
    "MAX_LINES": 50,
    "MAX_QUANTITY": 1000,
    # The payment provider's and carrier's sandbox (settings.SANDBOX_URL): how long a
    # connection and an answer may take before the call counts as failed (transient).
    "SANDBOX_CONNECT_TIMEOUT_SECONDS": 2.0,
    "SANDBOX_READ_TIMEOUT_SECONDS": 5.0,
    # Raise when an outside call is made inside a database transaction (DEBUG and tests).
    "GUARD_OUTSIDE_CALLS": False,
    # A pending (asynchronous) payment not confirmed in this time cancels the order.
    "PAYMENT_CONFIRMATION_TIMEOUT_SECONDS": 15 * 60.0,
    # How long after fulfillment a return may be asked for, and how long the warehouse
    # waits for the parcel before the return is rejected.
    "RETURN_WINDOW_DAYS": 30,
    "RETURN_PARCEL_TIMEOUT_SECONDS": 14 * 24 * 3600.0,
}

# What each value must be: a whole number above zero, any number above zero, or True or
# False.
POSITIVE_INTEGERS = ("PENDING_TTL_SECONDS", "MAX_LINES", "MAX_QUANTITY", "RETURN_WINDOW_DAYS")
POSITIVE_NUMBERS = (
    "PAYMENT_CONFIRMATION_TIMEOUT_SECONDS",
    "RETURN_PARCEL_TIMEOUT_SECONDS",
    "SANDBOX_CONNECT_TIMEOUT_SECONDS",
    "SANDBOX_READ_TIMEOUT_SECONDS",
)
BOOLEANS = ("GUARD_OUTSIDE_CALLS",)


orders_settings = AppSettings("ORDERS", DEFAULTS)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_whole_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _value_problem(name: str, value: Any) -> str | None:
    if name in POSITIVE_INTEGERS and not (_is_whole_number(value) and value > 0):
        return f"ORDERS[{name!r}] must be a whole number above zero, not {value!r}."
    if name in POSITIVE_NUMBERS and not (_is_number(value) and value > 0):
        return f"ORDERS[{name!r}] must be a number of seconds above zero, not {value!r}."
    if name in BOOLEANS and not isinstance(value, bool):
        return f"ORDERS[{name!r}] must be True or False, not {value!r}."
    return None


def orders_settings_problems() -> list[str]:
    """What is wrong with ``settings.ORDERS``, one sentence each (empty when all is well)."""
    user = orders_settings.user_settings()
    if not isinstance(user, dict):
        return [f"settings.ORDERS must be a dict, not {type(user).__name__}."]
    problems = [
        f"Unknown key {name!r} in settings.ORDERS; the known keys are {sorted(DEFAULTS)}."
        for name in sorted(set(user) - set(DEFAULTS))
    ]
    for name in DEFAULTS:
        problem = _value_problem(name, user.get(name, DEFAULTS[name]))
        if problem:
            problems.append(problem)
    return problems
