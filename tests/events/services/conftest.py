"""Fixtures of the services' tests: an order's ``order.placed`` event, throwaway subscribers."""

from collections.abc import Callable, Iterator

import pytest

from events import subscriptions
from events.models import Event
from orders.services import LineInput, order_place


@pytest.fixture
def register_subscriber() -> Iterator[Callable[..., str]]:
    """Register throwaway subscribers of ``order.placed``; removed again after the test."""
    names: list[str] = []

    def register(name: str, handler, **options) -> str:  # type: ignore[no-untyped-def]
        subscriptions.subscriber(name, events=["order.placed"], **options)(handler)
        names.append(name)
        return name

    yield register
    for name in names:
        subscriptions._registry.pop(name, None)


@pytest.fixture
def placed(customer, catalog) -> Event:  # type: ignore[no-untyped-def]
    """The ``order.placed`` event of one order, not yet dispatched."""
    order, _ = order_place(
        customer=customer, lines=[LineInput("MUG-LOGO", 1)], payment_token="tok_ok"
    )
    return Event.objects.get(aggregate_id=str(order.pk), type="order.placed")
