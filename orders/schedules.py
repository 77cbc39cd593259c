from typing import Any

from django.conf import settings

from events.schedules import ensure_periodic_task


def register_periodic_tasks(**kwargs: Any) -> None:
    ttl = settings.ORDERS["PENDING_TTL_SECONDS"]
    ensure_periodic_task(
        name="orders: expire pending orders",
        task="orders.expire_pending_orders",
        every_seconds=max(60, ttl // 10),
        description=f"Fails orders still pending after {ttl} seconds (failure_reason=expired).",
    )
