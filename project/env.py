"""Reading settings from the environment: booleans, lists and numbers, with clear errors."""

import os
from typing import TypeVar

from django.core.exceptions import ImproperlyConfigured


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {value!r}")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


Number = TypeVar("Number", int, float)


def _env_number(name: str, kind: type[Number], what: str) -> Number | None:
    value = os.environ.get(name, "")
    if value == "":
        return None
    try:
        return kind(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be {what}, got {value!r}") from None


def env_int(name: str) -> int | None:
    """The variable as a whole number, or None when it is not set."""
    return _env_number(name, int, "a whole number")


def env_float(name: str) -> float | None:
    """The variable as a number, or None when it is not set."""
    return _env_number(name, float, "a number")
