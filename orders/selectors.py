"""Reads of the order domain."""

import uuid

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from events import selectors as event_selectors
from events.models import Event, WorkflowRun

from .events import ORDER
from .models import Order, Product, Return, SalesDay
from .services.locks import FULFILLMENT


def product_list() -> QuerySet[Product]:
    return Product.objects.all()


def order_list(
    *, user: AbstractBaseUser, correlation_id: uuid.UUID | None = None
) -> QuerySet[Order]:
    """Staff see every order; a customer sees their own. Optionally only one flow's."""
    orders = Order.objects.prefetch_related("lines")
    if correlation_id is not None:
        orders = orders.filter(pk__in=order_ids_in_flow(correlation_id=correlation_id))
    return orders if user.is_staff else orders.filter(customer=user)


def order_ids_in_flow(*, correlation_id: uuid.UUID) -> list[int]:
    """The orders with an event of this flow (a request's id is the flow it starts)."""
    ids = event_selectors.aggregate_ids_in_flow(aggregate_type=ORDER, correlation_id=correlation_id)
    return [int(order_id) for order_id in ids if order_id.isdigit()]


def order_get(*, user: AbstractBaseUser, order_id: int) -> Order:
    """The order, or 404 when it does not exist or is not the user's to see."""
    return get_object_or_404(order_list(user=user), pk=order_id)


def order_events(*, order: Order) -> QuerySet[Event]:
    return event_selectors.event_timeline(aggregate_type="order", aggregate_id=order.pk)


def order_workflow(*, order: Order) -> WorkflowRun | None:
    return event_selectors.workflow_run_for_subject(workflow=FULFILLMENT, subject_id=order.pk)


def sales_by_day() -> QuerySet[SalesDay]:
    return SalesDay.objects.all()


def return_list(*, user: AbstractBaseUser) -> QuerySet[Return]:
    """Staff see every return; a customer sees the returns of their own orders."""
    returns = Return.objects.select_related("order")
    return returns if user.is_staff else returns.filter(order__customer=user)
