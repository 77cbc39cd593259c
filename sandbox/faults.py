"""Faults to switch on, as a provider's bad day would bring them.

- ``latency``: seconds added before each write is handled;
- ``error_rate``: the share of writes answered 503 before anything is done;
- ``lose_rate``: the share of writes that are done (the money is taken) and whose answer
  is then held ``lose_hold`` seconds, past the client's timeout, and ends in a 503.

They start from the environment (``SANDBOX_LATENCY_SECONDS``, ``SANDBOX_ERROR_RATE``,
``SANDBOX_LOSE_RATE``, ``SANDBOX_LOSE_HOLD_SECONDS``, ``SANDBOX_FAULT_ENDPOINTS``) and are
changed at run time by ``POST /_admin/faults``. ``endpoints`` limits them to some kinds
of write (``charges``, ``refunds``, ``shipments``); empty means all.
"""

import os
import random
from dataclasses import asdict, dataclass, field, fields
from typing import Any

KINDS = ("charges", "refunds", "shipments")


class FaultError(ValueError):
    """A fault setting out of range; the message says which and why."""


@dataclass
class Faults:
    latency: float = 0.0
    error_rate: float = 0.0
    lose_rate: float = 0.0
    lose_hold: float = 30.0
    endpoints: list[str] = field(default_factory=list)

    def applies_to(self, kind: str) -> bool:
        return not self.endpoints or kind in self.endpoints

    def fails_now(self, kind: str) -> bool:
        return self.applies_to(kind) and random.random() < self.error_rate

    def loses_now(self, kind: str) -> bool:
        return self.applies_to(kind) and random.random() < self.lose_rate

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def update(self, changes: dict[str, Any]) -> None:
        """Apply ``changes`` (all or nothing); raise FaultError on a bad one."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known - {"reset"})
        if unknown:
            raise FaultError(f"Unknown fault(s) {unknown}; known: {sorted(known)}.")
        merged = {**(Faults() if changes.get("reset") else self).as_dict()}
        merged.update({k: v for k, v in changes.items() if k != "reset"})
        checked = _checked(merged)
        for name, value in checked.items():
            setattr(self, name, value)


def _number(name: str, value: Any, *, upper: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise FaultError(f"{name} must be a number, not {value!r}.")
    try:
        number = float(value)
    except ValueError:
        raise FaultError(f"{name} must be a number, not {value!r}.") from None
    if number < 0 or (upper is not None and number > upper):
        bound = f"between 0 and {upper}" if upper is not None else "0 or more"
        raise FaultError(f"{name} must be {bound}, not {value!r}.")
    return number


def _checked(values: dict[str, Any]) -> dict[str, Any]:
    endpoints = values["endpoints"]
    if isinstance(endpoints, str):
        endpoints = [part.strip() for part in endpoints.split(",") if part.strip()]
    if not isinstance(endpoints, list) or not set(endpoints) <= set(KINDS):
        raise FaultError(f"endpoints must list some of {list(KINDS)}, not {endpoints!r}.")
    return {
        "latency": _number("latency", values["latency"]),
        "error_rate": _number("error_rate", values["error_rate"], upper=1),
        "lose_rate": _number("lose_rate", values["lose_rate"], upper=1),
        "lose_hold": _number("lose_hold", values["lose_hold"]),
        "endpoints": endpoints,
    }


def from_env(environ: dict[str, str] | None = None) -> Faults:
    env = os.environ if environ is None else environ
    faults = Faults()
    faults.update(
        {
            "latency": env.get("SANDBOX_LATENCY_SECONDS", "0"),
            "error_rate": env.get("SANDBOX_ERROR_RATE", "0"),
            "lose_rate": env.get("SANDBOX_LOSE_RATE", "0"),
            "lose_hold": env.get("SANDBOX_LOSE_HOLD_SECONDS", "30"),
            "endpoints": env.get("SANDBOX_FAULT_ENDPOINTS", ""),
        }
    )
    return faults
