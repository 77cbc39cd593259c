"""Who may call what: every operation of the OpenAPI schema, for every kind of caller.

The operations come from the schema itself, so an endpoint added later is in the matrix
without anyone remembering to add it. Each one falls under the first rule of ``RULES``
that matches it, and an operation no rule names is expected to be staff only: a new
endpoint is closed until someone opens it here, on purpose.

Callers: anonymous, the customer who owns the objects in the URL, another customer and
staff. A cell is one of 401 (no credentials), 403 (not allowed), 404 (someone else's
object: it does not exist for you) or ``ALLOWED`` (past authorization: any answer the
schema documents for the operation other than 401, 403 and 404, and never a 5xx).
"""

import re
from dataclasses import dataclass

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from events.models import Event
from notifications.models import Notification, WebhookSubscription
from orders.models import Order
from orders.services import return_request
from tests.factories import client_for, make_catalog, make_user
from tests.helpers.fulfillment import place, start_fulfillment
from tests.helpers.probe_rows import dead_letter
from tests.helpers.webhook_rows import emit, fan_out

ROLES = ("anonymous", "customer", "other_customer", "staff")
ALLOWED = "allowed"

# What each kind of operation answers each caller, in ROLES order.
PUBLIC = (ALLOWED, ALLOWED, ALLOWED, ALLOWED)
SIGNED_BY_THE_GATEWAY = (403, 403, 403, 403)  # credentials do not count, a signature does
SIGNED_IN = (401, ALLOWED, ALLOWED, ALLOWED)
OWNER_OR_STAFF = (401, ALLOWED, 404, ALLOWED)
OWNER_ONLY = (401, ALLOWED, 404, 404)  # a person's inbox is theirs, even to staff
STAFF_ONLY = (401, 403, 403, ALLOWED)

# (pattern on "METHOD /path", expected): the first match wins; anything else is STAFF_ONLY.
RULES: list[tuple[str, tuple]] = [
    (r"POST /api/auth/token/$", PUBLIC),
    (r"GET /api/products/", PUBLIC),
    (r"POST /api/payments/callback/$", SIGNED_BY_THE_GATEWAY),
    (r"(GET|POST) /api/orders/$", SIGNED_IN),
    (r"\w+ /api/orders/\{order_id\}/", OWNER_OR_STAFF),
    (r"GET /api/returns/$", SIGNED_IN),
    (r"GET /api/returns/\{id\}/$", OWNER_OR_STAFF),
    (r"\w+ /api/notifications/\{id\}/", OWNER_ONLY),
    (r"\w+ /api/notifications/", SIGNED_IN),
    (r"\w+ /api/notification-preferences/$", SIGNED_IN),
]


def expected_for(method: str, path: str) -> tuple:
    for pattern, expected in RULES:
        if re.match(pattern, f"{method} {path}"):
            return expected
    return STAFF_ONLY


def api_schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


SCHEMA = api_schema()
OPERATIONS = sorted(
    (method.upper(), path)
    for path, item in SCHEMA["paths"].items()
    for method in item
    if method in {"get", "post", "put", "patch", "delete"}
)


@dataclass
class World:
    """The customer's objects (an order, its run, a return, a message) and staff's."""

    clients: dict[str, Client]
    ids: dict[str, str]


@pytest.fixture
def world(db, broker) -> World:  # type: ignore[no-untyped-def]
    make_catalog()
    customer, other = make_user("alice"), make_user("bob")
    staff = make_user("admin", staff=True)
    order = place(customer)
    run = start_fulfillment(order)
    sent_back = place(customer)
    Order.objects.filter(pk=sent_back.pk).update(status=Order.Status.FULFILLED)
    returned = return_request(order=sent_back)
    message = Notification.objects.create(
        user=customer,
        channel=Notification.Channel.IN_APP,
        kind=Notification.Kind.ORDER_CONFIRMATION,
        subject="Order confirmed",
        body="Thank you.",
        order_id=order.pk,
    )
    subscription = WebhookSubscription.objects.create(
        url="https://hooks.example.com/orders", secret="whsec_matrix"
    )
    delivery = fan_out(emit())[0]
    ids = {
        "/api/orders/{order_id}/": str(order.pk),
        "/api/returns/{id}/": str(returned.pk),
        "/api/notifications/{id}/": str(message.pk),
        "/api/workflows/{id}/": str(run.pk),
        "/api/dead-letters/{id}/": str(dead_letter().pk),
        "/api/events/{id}/": str(order_events_first(order.pk)),
        "/api/webhooks/{id}/": str(subscription.pk),
        "/api/webhook-deliveries/{id}/": str(delivery.pk),
        "/api/products/{sku}/": "MUG-LOGO",
    }
    clients = {
        "anonymous": Client(),
        "customer": client_for(customer),
        "other_customer": client_for(other),
        "staff": client_for(staff),
    }
    return World(clients=clients, ids=ids)


def order_events_first(order_id: int) -> str:
    return str(Event.objects.filter(aggregate_id=str(order_id)).order_by("sequence")[0].pk)


def url_for(path: str, ids: dict[str, str]) -> str:
    """The path with its parameter filled in with an object of the world."""
    if "{" not in path:
        return path
    for template, value in ids.items():
        parameter = template[template.index("{") : template.index("}") + 1]
        if path.startswith(template[: template.index("}") + 1]):
            return path.replace(parameter, value, 1)
    raise AssertionError(f"No object in the matrix's world for {path}: add one to `world`.")


CELLS = [(method, path, role) for method, path in OPERATIONS for role in ROLES]


def test_the_matrix_covers_every_operation_of_the_schema() -> None:
    paths = {path for _, path in OPERATIONS}
    assert len(OPERATIONS) >= 40
    assert {"/api/orders/", "/api/orders/{order_id}/cancel/", "/api/workflows/{id}/retry/"} <= paths


@pytest.mark.parametrize(("method", "path", "role"), CELLS, ids=[" ".join(c) for c in CELLS])
def test_each_caller_gets_the_answer_the_matrix_states(
    method: str, path: str, role: str, world: World
) -> None:
    expected = expected_for(method, path)[ROLES.index(role)]
    client = world.clients[role]

    response = client.generic(
        method, url_for(path, world.ids), data="{}", content_type="application/json"
    )

    documented = set(SCHEMA["paths"][path][method.lower()]["responses"])
    answer = f"{method} {path} as {role}: {response.status_code} {response.content[:300]!r}"
    if response.status_code != 204:
        assert response["Content-Type"].startswith("application/json"), answer
    assert str(response.status_code) in documented, f"undocumented status; {answer}"
    if expected == ALLOWED:
        assert response.status_code < 500, answer
        assert response.status_code not in (401, 403, 404), f"expected allowed; {answer}"
    else:
        assert response.status_code == expected, f"expected {expected}; {answer}"
