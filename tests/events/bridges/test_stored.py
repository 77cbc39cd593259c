import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import transaction

from events.bridges import stored
from events.models import OutboxEvent
from events.services import event_emit


def test_a_uuid_column_reads_as_the_canonical_text_from_either_driver():
    value = uuid.uuid4()

    assert stored.uuid_text(value.hex) == str(value)  # SQLite: 32 hex digits
    assert stored.uuid_text(value) == str(value)  # PostgreSQL: a UUID


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 12, 1, 22, 35, 41, 123456, tzinfo=UTC),
        datetime(2026, 12, 1, 22, 35, 41, tzinfo=UTC),  # no fraction: none written
    ],
)
def test_a_time_column_reads_as_isoformat_with_its_offset_from_either_driver(moment):
    sqlite_text = str(moment.replace(tzinfo=None))  # how Django's SQLite backend stores it

    assert stored.time_text(sqlite_text) == moment.isoformat()
    assert stored.time_text(moment) == moment.isoformat()
    other_zone = moment.astimezone(timezone(timedelta(hours=2)))
    assert stored.time_text(other_zone) == other_zone.isoformat()


@pytest.mark.django_db
def test_rows_read_past_the_converters_equal_the_model_instances(no_fast_path):
    with transaction.atomic():
        cause = event_emit(type="probe.tick", aggregate_id="a-1", payload={"n": 1, "é": "ü"})
        event = event_emit(
            type="probe.tick",
            aggregate_id="a-1",
            payload={"n": 2, "big": 2**70},
            causation_id=cause.id,
        )

    read = stored.rows(OutboxEvent.objects.order_by("pk"))

    assert [e for _, e in read] == [stored.stored_event(cause), stored.stored_event(event)]
    assert read[1][1].causation_id == str(cause.id)
