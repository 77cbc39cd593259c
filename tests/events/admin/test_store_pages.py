"""The event store in the admin: append-only there too, searched and filtered by flow.

The rows are the ``world`` fixture's (tests/events/admin/conftest.py).
"""

import pytest

from events.admin import admin_url
from events.models import Event
from tests.helpers.admin import follow_filter, listed
from tests.helpers.fulfillment import order_event

pytestmark = pytest.mark.django_db


def event_row(event: Event) -> dict:
    return Event.objects.filter(pk=event.pk).values().get()


def test_the_event_admin_has_no_add_page(world, superuser_client):
    response = superuser_client.get(admin_url(Event, "add"))

    assert response.status_code == 403


def test_the_event_change_page_is_read_only(world, superuser_client):
    event = order_event(world.fulfilled, "order.placed")

    response = superuser_client.get(admin_url(Event, "change", event.pk))

    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="_save"' not in content
    assert 'name="type"' not in content
    assert admin_url(Event, "delete", event.pk) not in content
    assert f"&quot;order_id&quot;: {world.fulfilled.pk}" in content  # the payload, read-only


def test_posting_to_an_event_change_page_changes_nothing(world, superuser_client):
    event = order_event(world.fulfilled, "order.placed")
    before = event_row(event)

    response = superuser_client.post(
        admin_url(Event, "change", event.pk),
        {
            "type": "order.tampered",
            "version": 9,
            "aggregate_type": "order",
            "aggregate_id": "999",
            "sequence": 7,
            "payload": "{}",
            "_save": "Save",
        },
    )

    assert response.status_code == 403
    assert event_row(event) == before


def test_posting_to_an_event_delete_page_deletes_nothing(world, superuser_client):
    event = order_event(world.fulfilled, "order.placed")
    before = event_row(event)

    get = superuser_client.get(admin_url(Event, "delete", event.pk))
    post = superuser_client.post(admin_url(Event, "delete", event.pk), {"post": "yes"})

    assert (get.status_code, post.status_code) == (403, 403)
    assert event_row(event) == before


def test_the_event_changelist_offers_no_bulk_delete_and_a_forged_one_deletes_nothing(
    world, superuser_client
):
    url = admin_url(Event, "changelist")
    count = Event.objects.count()

    page = superuser_client.get(url)
    forged = superuser_client.post(
        url,
        {"action": "delete_selected", "_selected_action": [str(e.pk) for e in Event.objects.all()]},
    )
    confirmed = superuser_client.post(
        url,
        {
            "action": "delete_selected",
            "_selected_action": [str(e.pk) for e in Event.objects.all()],
            "post": "yes",
        },
    )

    assert page.context["action_form"] is None
    assert forged.status_code == confirmed.status_code == 200
    assert Event.objects.count() == count


def test_searching_events_by_correlation_id_lists_that_flow_only(world, superuser_client):
    placed = order_event(world.declined, "order.placed")
    flow = set(
        Event.objects.filter(correlation_id=placed.correlation_id).values_list("pk", flat=True)
    )
    assert len(flow) > 1  # the placing and what the run emitted after it

    response = superuser_client.get(
        admin_url(Event, "changelist"), {"q": str(placed.correlation_id)}
    )

    assert listed(response) == flow
    assert admin_url(Event, "change", placed.pk) in response.content.decode()


def test_searching_events_by_type_prefix_lists_the_matching_events(world, superuser_client):
    response = superuser_client.get(admin_url(Event, "changelist"), {"q": "order.canc"})

    assert listed(response) == {order_event(world.cancelled, "order.cancelled").pk}


def test_filtering_events_by_type_and_aggregate_type(world, superuser_client):
    by_type = follow_filter(superuser_client, Event, "type", "order.fulfilled")
    by_aggregate = follow_filter(superuser_client, Event, "aggregate type", "probe")

    assert listed(by_type) == {order_event(world.fulfilled, "order.fulfilled").pk}
    assert listed(by_aggregate) == {world.poison.pk, world.inbound.event_id}


def test_the_aggregate_link_of_an_event_lists_its_whole_stream(world, superuser_client):
    order = world.fulfilled
    placed = order_event(order, "order.placed")
    link = f"{admin_url(Event, 'changelist')}?aggregate_type=order&aggregate_id={order.pk}"
    page = superuser_client.get(admin_url(Event, "change", placed.pk)).content.decode()
    assert link.replace("&", "&amp;") in page

    response = superuser_client.get(link)

    stream = Event.objects.for_aggregate("order", str(order.pk))
    assert listed(response) == set(stream.values_list("pk", flat=True))
    assert list(stream.values_list("type", flat=True)) == [
        "order.placed",
        "stock.reserved",
        "payment.captured",
        "shipment.created",
        "order.fulfilled",
        "return.requested",
    ]
