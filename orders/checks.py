"""System checks of the order domain, run by ``manage.py check`` and at every start."""

from typing import Any

from django.core import checks

from .conf import orders_settings_problems

SETTINGS_INVALID = "orders.E001"


def orders_settings_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Refuse an ``ORDERS`` setting with unknown keys or values out of range."""
    return [
        checks.Error(
            problem,
            hint="DEFAULTS in orders/conf.py lists the keys; the environment sets some of "
            "them as ORDERS_<KEY> (see README.md).",
            id=SETTINGS_INVALID,
        )
        for problem in orders_settings_problems()
    ]
