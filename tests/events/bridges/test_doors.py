"""The bridges in the admin, the staff API and /metrics."""

import pytest

from events.bridges.checkpoint import bridge_pause
from events.models import BridgeCheckpoint, InboundDeadLetter
from tests.events.bridges.factories import emit_ticks

pytestmark = pytest.mark.django_db

BRIDGES = [
    {"name": "kafka", "transport": "kafka", "event_types": "*"},
    {"name": "sns", "transport": "sns", "topic_arn": "arn:aws:sns:us-east-1:1:t.fifo"},
]


@pytest.fixture(autouse=True)
def bridges(settings, no_fast_path):  # type: ignore[no-untyped-def]
    settings.EVENTS = {**settings.EVENTS, "BRIDGES": BRIDGES}


def test_the_api_lists_every_configured_bridge_with_its_lag(staff_client):
    emit_ticks("a", 3)
    bridge_pause(name="sns")

    response = staff_client.get("/api/bridges/")

    assert response.status_code == 200
    by_name = {b["name"]: b for b in response.json()}
    assert by_name["kafka"]["lag"] == 3
    assert by_name["kafka"]["paused"] is False
    assert (by_name["sns"]["transport"], by_name["sns"]["paused"]) == ("sns", True)


def test_the_bridges_api_is_for_staff_only(customer_client):
    assert customer_client.get("/api/bridges/").status_code == 403


def test_metrics_show_each_bridges_lag_and_pause(client):
    emit_ticks("a", 2)
    bridge_pause(name="kafka")
    InboundDeadLetter.objects.create(transport="kafka", channel="t", body="x", reason="bad")

    text = client.get("/metrics").content.decode()

    assert 'events_bridge_lag{bridge="kafka"} 2.0' in text
    assert 'events_bridge_paused{bridge="kafka"} 1.0' in text
    assert "events_inbound_dead_letters 1.0" in text


def test_the_admin_pauses_and_resumes_a_bridge(superuser_client):
    emit_ticks("a", 1)
    checkpoint = BridgeCheckpoint.objects.create(name="kafka")
    url = "/admin/events/bridgecheckpoint/"

    page = superuser_client.get(url)
    assert page.status_code == 200
    assert "kafka" in page.content.decode()

    superuser_client.post(url, {"action": "pause", "_selected_action": [checkpoint.pk]})
    checkpoint.refresh_from_db()
    assert checkpoint.paused
    superuser_client.post(url, {"action": "resume", "_selected_action": [checkpoint.pk]})
    checkpoint.refresh_from_db()
    assert not checkpoint.paused
    assert superuser_client.get(f"{url}{checkpoint.pk}/change/").status_code == 200


def test_the_admin_shows_inbound_dead_letters_with_their_body(superuser_client):
    dead = InboundDeadLetter.objects.create(
        transport="sqs", channel="q", reference="m-1", body="{broken", reason="Not JSON"
    )

    page = superuser_client.get(f"/admin/events/inbounddeadletter/{dead.pk}/change/")

    assert page.status_code == 200
    assert "{broken" in page.content.decode()
    assert superuser_client.get("/admin/events/inboundevent/").status_code == 200
