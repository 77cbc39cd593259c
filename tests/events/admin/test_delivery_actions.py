"""The dead letter admin's actions: replay and discard, run through the changelist.

Each action calls a service; these tests check what it did to the database and what the
operator was told. A replay sends its delivery after commit, which these tests, inside
one transaction, reach only where they say so.
"""

import pytest

from events.models import DeadLetter, Delivery
from events.services import delivery_run
from events.services.dead_letters import NOT_OPEN
from tests.helpers.admin import act, row, shown
from tests.helpers.probe_rows import dead_letter

pytestmark = pytest.mark.django_db


def test_replaying_a_dead_letter_reopens_its_delivery_and_sends_it_again(
    superuser_client, sent_deliveries, django_capture_on_commit_callbacks
):
    letter = dead_letter()
    assert letter.delivery.status == Delivery.Status.DEAD

    with django_capture_on_commit_callbacks(execute=True):
        response = act(superuser_client, DeadLetter, "replay", [letter])

    assert shown(response) == [("success", "Replayed 1 dead letter(s).")]
    letter.refresh_from_db()
    assert (letter.status, letter.resolved_by) == (DeadLetter.Status.REPLAYED, "admin")
    assert letter.resolved_at is not None
    delivery = Delivery.objects.get(pk=letter.delivery_id)
    assert (delivery.status, delivery.attempts) == (Delivery.Status.PENDING, 0)
    assert sent_deliveries == [{"event_id": str(delivery.event_id), "subscriber": "probe.poisoned"}]


def test_replaying_a_replayed_dead_letter_is_reported_and_changes_nothing(
    superuser_client, sent_deliveries, django_capture_on_commit_callbacks
):
    letter = dead_letter()
    with django_capture_on_commit_callbacks(execute=True):
        act(superuser_client, DeadLetter, "replay", [letter])
    # The replayed delivery failed once more in the meantime.
    delivery_run(event_id=letter.delivery.event_id, subscriber="probe.poisoned")
    before, delivery_before = row(letter), row(letter.delivery)

    with django_capture_on_commit_callbacks(execute=True):
        response = act(superuser_client, DeadLetter, "replay", [letter])

    already_replayed = NOT_OPEN.format(pk=letter.pk, status="replayed")
    assert shown(response) == [("error", f"1 failed: {already_replayed}")]
    assert row(letter) == before
    assert row(letter.delivery) == delivery_before
    assert delivery_before["status"] == Delivery.Status.FAILED
    assert len(sent_deliveries) == 1  # only the first replay sent anything


def test_replaying_an_open_and_a_replayed_dead_letter_reports_both(
    superuser_client, sent_deliveries
):
    replayed, still_open = dead_letter("first"), dead_letter("second")
    act(superuser_client, DeadLetter, "replay", [replayed])

    response = act(superuser_client, DeadLetter, "replay", [replayed, still_open])

    assert shown(response) == [
        ("success", "Replayed 1 dead letter(s)."),
        ("error", f"1 failed: {NOT_OPEN.format(pk=replayed.pk, status='replayed')}"),
    ]
    assert DeadLetter.objects.get(pk=still_open.pk).status == DeadLetter.Status.REPLAYED


def test_discarding_a_dead_letter_discards_its_delivery_for_good(superuser_client, sent_deliveries):
    letter = dead_letter()

    response = act(superuser_client, DeadLetter, "discard", [letter])

    assert shown(response) == [("success", "Discarded 1 dead letter(s).")]
    letter.refresh_from_db()
    assert (letter.status, letter.resolved_by) == (DeadLetter.Status.DISCARDED, "admin")
    assert letter.resolved_at is not None
    delivery = Delivery.objects.get(pk=letter.delivery_id)
    assert delivery.status == Delivery.Status.DISCARDED
    # A late redelivery does not run the subscriber again.
    assert delivery_run(event_id=delivery.event_id, subscriber=delivery.subscriber).status == (
        "duplicate"
    )


def test_a_discarded_dead_letter_cannot_be_replayed(superuser_client, sent_deliveries):
    letter = dead_letter()
    act(superuser_client, DeadLetter, "discard", [letter])
    before = row(letter)

    response = act(superuser_client, DeadLetter, "replay", [letter])

    assert shown(response) == [
        ("error", f"1 failed: {NOT_OPEN.format(pk=letter.pk, status='discarded')}")
    ]
    assert row(letter) == before
    assert Delivery.objects.get(pk=letter.delivery_id).status == Delivery.Status.DISCARDED
    assert sent_deliveries == []
