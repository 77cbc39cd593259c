from typing import Any

from events.schedules import ensure_periodic_task

from .conf import orders_settings


def register_periodic_tasks(**kwargs: Any) -> None:
    ttl = orders_settings.PENDING_TTL_SECONDS
    ensure_periodic_task(
        name="orders: expire pending orders",
        task="orders.expire_pending_orders",
        every_seconds=max(60, ttl // 10),
        description=f"Fails orders still pending after {ttl} seconds (failure_reason=expired).",
    )
