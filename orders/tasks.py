from celery import shared_task

from .services import orders_expire_pending


@shared_task(name="orders.expire_pending_orders")
def expire_pending_orders() -> int:
    """Fail orders that never left ``pending``."""
    return orders_expire_pending()
