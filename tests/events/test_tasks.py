"""The beat watchdog task, and the switch that turns it off."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from events import dispatch
from events.models import Delivery
from events.services import event_emit
from events.services.delivery import deliveries_create
from events.tasks import resume_stalled

pytestmark = pytest.mark.django_db


@pytest.fixture
def stalled_delivery(broker) -> None:  # type: ignore[no-untyped-def]
    """A delivery dispatched an hour ago whose message never came."""
    with transaction.atomic():
        event = event_emit(type="probe.tick", aggregate_id="watchdog-1", payload={"n": 1})
    deliveries_create([(event.id, event.type)])
    Delivery.objects.update(updated_at=timezone.now() - timedelta(hours=1))
    broker.clear()


def test_the_beat_watchdog_sends_a_stalled_delivery_again(stalled_delivery, broker):
    assert resume_stalled() >= 1
    assert broker.of(dispatch.DELIVER)


def test_switched_off_the_beat_watchdog_sends_nothing(stalled_delivery, broker, settings):
    settings.EVENTS = {**settings.EVENTS, "WATCHDOG_ENABLED": False}

    assert resume_stalled() == 0
    assert broker.of(dispatch.DELIVER) == []
