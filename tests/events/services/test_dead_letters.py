"""Dead letters: what an operator does with a delivery that failed all its attempts."""

import pytest

from events import dispatch
from events.models import DeadLetter, Delivery, DeliveryAttempt
from events.services import dead_letter_discard, dead_letter_replay, delivery_run
from events.services.dead_letters import DeadLetterNotOpen
from tests.fakes import FailsUntilFixed, always_fails

pytestmark = pytest.mark.django_db


def test_a_discarded_dead_letter_is_neither_replayed_nor_run_again(placed, register_subscriber):
    name = register_subscriber("tests.always_fails", always_fails, max_attempts=2, backoff=0)
    delivery_run(event_id=placed.id, subscriber=name)
    delivery_run(event_id=placed.id, subscriber=name)
    dead_letter = DeadLetter.objects.get()

    discarded = dead_letter_discard(dead_letter=dead_letter, by="admin")

    assert discarded.status == DeadLetter.Status.DISCARDED
    assert (discarded.resolved_by, discarded.resolved_at is not None) == ("admin", True)
    delivery = Delivery.objects.get(event=placed, subscriber=name)
    assert delivery.status == Delivery.Status.DISCARDED
    with pytest.raises(DeadLetterNotOpen):
        dead_letter_replay(dead_letter=dead_letter)
    assert DeadLetter.objects.get().status == DeadLetter.Status.DISCARDED

    # A late redelivery of the same event does not run the handler either.
    assert delivery_run(event_id=placed.id, subscriber=name).status == "duplicate"
    assert DeliveryAttempt.objects.filter(delivery=delivery).count() == 2


def test_replaying_a_dead_letter_after_the_fix_delivers_it_once(
    placed, register_subscriber, broker, django_capture_on_commit_callbacks
):
    handler = FailsUntilFixed()
    name = register_subscriber("tests.fails_until_fixed", handler, max_attempts=1)
    assert delivery_run(event_id=placed.id, subscriber=name).status == Delivery.Status.DEAD
    dead_letter = DeadLetter.objects.get()
    handler.fixed = True

    broker.after_send = lambda task_name, kwargs: delivery_run(**kwargs)  # a worker takes it
    with django_capture_on_commit_callbacks(execute=True):
        replayed = dead_letter_replay(dead_letter=dead_letter, by="admin")
        assert broker.of(dispatch.DELIVER) == []  # sent only after the replay commits

    assert broker.of(dispatch.DELIVER) == [{"event_id": str(placed.id), "subscriber": name}]
    assert replayed.status == DeadLetter.Status.REPLAYED
    assert handler.effects == [placed.id]
    delivery = Delivery.objects.get(event=placed, subscriber=name)
    # The replay started a fresh round of attempts; the log keeps both rounds.
    assert (delivery.status, delivery.attempts) == (Delivery.Status.SUCCEEDED, 1)
    assert list(delivery.attempt_log.values_list("number", "succeeded")) == [
        (1, False),
        (2, True),
    ]
    assert delivery_run(event_id=placed.id, subscriber=name).status == "duplicate"
    assert handler.effects == [placed.id]
    with pytest.raises(DeadLetterNotOpen):
        dead_letter_replay(dead_letter=dead_letter)
