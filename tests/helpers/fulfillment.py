"""An order placed through the services and its fulfillment run driven step by step.

What a worker would do, done in the test's own transaction: deliveries run one by one,
steps run by name.
"""

from events.models import Event, WorkflowRun
from events.services import delivery_run
from events.services.delivery import deliveries_create
from events.workflows.engine import step_execute
from orders.models import Order, Product
from orders.services import LineInput, order_place

FULFILLMENT = "orders.fulfillment"
FULFILLMENT_STEPS = [
    "reserve_stock",
    "charge_payment",
    "create_shipment",
    "send_confirmation",
    "complete_order",
]


def place(customer, *, token: str = "tok_ok", quantity: int = 2) -> Order:  # type: ignore[no-untyped-def]
    order, _ = order_place(
        customer=customer, lines=[LineInput("MUG-LOGO", quantity)], payment_token=token
    )
    return order


def start_fulfillment(order: Order) -> WorkflowRun:
    """Dispatch ``order.placed`` and run its deliveries: the fulfillment run starts."""
    placed = Event.objects.get(aggregate_id=str(order.pk), type="order.placed")
    for event_id, name in deliveries_create([(placed.id, placed.type)]):
        delivery_run(event_id=event_id, subscriber=name)
    return fulfillment_run(order)


def fulfillment_run(order: Order) -> WorkflowRun:
    return WorkflowRun.objects.get(workflow=FULFILLMENT, subject_id=str(order.pk))


def run_deliveries(event: Event) -> None:
    """Create the event's deliveries and run each one, like a worker would."""
    for event_id, name in deliveries_create([(event.id, event.type)]):
        delivery_run(event_id=event_id, subscriber=name, task_id=f"task-{name}")


def run_steps(run: WorkflowRun, *names: str) -> None:
    for name in names:
        step_execute(run_id=run.id, step_name=name, task_id=f"task-{name}")


def steps(run: WorkflowRun) -> dict[str, str]:
    """Each step's status, by step name."""
    return dict(run.steps.values_list("name", "status"))


def stock() -> int:
    """The units of MUG-LOGO on the shelf."""
    return Product.objects.get(sku="MUG-LOGO").stock


def order_event(order: Order, event_type: str) -> Event:
    return Event.objects.get(aggregate_type="order", aggregate_id=str(order.pk), type=event_type)


def event_types(order: Order) -> list[str]:
    """The types of the order's events, in stream order."""
    return list(Event.objects.for_aggregate("order", str(order.pk)).values_list("type", flat=True))
