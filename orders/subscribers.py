"""What the order domain does when events arrive."""

from events.envelope import Envelope
from events.subscriptions import subscriber
from events.workflows import workflow_start

from .models import Order
from .services import shipment_mark_delivered
from .workflows import fulfillment


@subscriber("orders.start_fulfillment", events=["order.placed"])
def start_fulfillment(event: Envelope) -> None:
    """Start the fulfillment run of a newly placed order (once: runs are unique per order)."""
    order_id = event.payload["order_id"]
    if not Order.objects.filter(pk=order_id, status=Order.Status.PENDING).exists():
        return  # cancelled or expired before fulfillment began
    workflow_start(
        workflow=fulfillment.name,
        subject_id=order_id,
        input={"order_id": order_id, "event_id": str(event.id)},
        correlation_id=event.correlation_id,
    )


@subscriber("orders.complete_on_delivery", events=["shipment.delivered"])
def complete_on_delivery(event: Envelope) -> None:
    """The carrier's word that the parcel arrived fulfills the shipped order."""
    shipment_mark_delivered(order_id=event.payload["order_id"])
