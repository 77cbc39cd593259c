import threading

import pytest

from events.bridges import config
from events.bridges.checkpoint import bridge_pause, bridge_resume, checkpoint_get
from events.bridges.runner import BridgeRunner, PublishFailed
from events.models import BridgeCheckpoint
from tests.events.bridges.factories import emit_ticks

pytestmark = pytest.mark.django_db


class RecordingPublisher:
    """Stands in for a broker: records what it is given, or refuses it."""

    description = "a test broker"

    def __init__(self) -> None:
        self.published: list[str] = []
        self.refuse = False
        self.resets = 0

    def connect(self) -> None:
        pass

    def publish(self, events, stop) -> None:  # type: ignore[no-untyped-def]
        if self.refuse:
            raise PublishFailed("refused")
        self.published += [str(e.id) for e in events]

    def reset(self) -> None:
        self.resets += 1

    def close(self) -> None:
        pass


@pytest.fixture
def runner(settings, no_fast_path) -> BridgeRunner:  # type: ignore[no-untyped-def]
    settings.EVENTS = {
        **settings.EVENTS,
        "BRIDGES": [{"name": "kafka", "transport": "kafka"}],
        "BRIDGE_RETRY_SECONDS": 0.01,
        "BRIDGE_GAP_WAIT_SECONDS": 0,
    }
    return BridgeRunner(config.get("kafka"), RecordingPublisher(), threading.Event())


def test_a_batch_the_broker_refused_leaves_the_checkpoint_where_it_was(runner):
    events = emit_ticks("a", 2)
    runner.publisher.refuse = True

    runner._step()

    checkpoint = BridgeCheckpoint.objects.get(name="kafka")
    assert checkpoint.position == 0
    assert checkpoint.last_error == "refused"
    assert runner.publisher.resets == 1

    runner.publisher.refuse = False
    runner._step()
    assert runner.publisher.published == [str(e.id) for e in events]
    checkpoint.refresh_from_db()
    assert (checkpoint.published, checkpoint.last_error) == (2, "")


def test_a_paused_bridge_publishes_nothing_until_resumed(runner):
    checkpoint_get(bridge=runner.bridge)
    bridge_pause(name="kafka")
    emit_ticks("a", 1)

    assert runner._step() is True
    assert runner.publisher.published == []

    bridge_resume(name="kafka")
    runner._step()
    assert len(runner.publisher.published) == 1


def test_a_stop_before_the_broker_answers_ends_the_run(runner):
    runner.stop.set()

    runner.run()

    assert runner.publisher.published == []
