"""Celery tasks of the notifications app: thin adapters around the services.

Services send these by name through ``events.dispatch``; this module turns the names into
tasks.
"""

from celery import shared_task

from events.retry import countdown

from .services import webhook_delivery_send, webhook_send_due
from .services.webhook_sending import DELIVER_WEBHOOK, SEND_DUE_WEBHOOKS


# The delivery and its attempts are the record: no result rows are written.
@shared_task(name=DELIVER_WEBHOOK, bind=True, acks_late=True, max_retries=None, ignore_result=True)
def deliver_webhook(self, delivery_id: str, **trace: str) -> str:  # type: ignore[no-untyped-def]
    """Make a webhook delivery's due attempt; a retry due soon comes back with a countdown.

    Later retries wait in the database for ``send_due_webhooks``.
    """
    outcome = webhook_delivery_send(delivery_id=delivery_id)
    if outcome.retry_in is not None:
        raise self.retry(countdown=countdown(outcome.retry_in))
    return outcome.status


@shared_task(name=SEND_DUE_WEBHOOKS, ignore_result=True)
def send_due_webhooks() -> int:
    """Queue the webhook deliveries that are due, and those whose message was lost."""
    return webhook_send_due()
