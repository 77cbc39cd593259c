"""Broker plumbing: a multi-process-safe filesystem transport and RabbitMQ's topology.

kombu's ``filesystem://`` transport is made safe for several processes at once:

- Messages: kombu creates a message file and then writes it, so a consumer listing the
  folder in between takes an empty file, dies on it, and the message is lost. Here a
  message is written under a hidden name and renamed into place, which is atomic.
- Exchange tables: kombu creates one with ``open("wb")`` *before* taking its lock, so a
  process reading it at that moment (a publish, a worker starting beside Flower) reads an
  empty file and dies on ``JSONDecodeError``. Here the table is opened without
  truncation and changed only under the lock; an empty table reads as no routes.

The ``filesystem`` alias points at this class, so ``filesystem://`` URLs keep working.
Its folders are made once, when the Celery app is configured (``make_filesystem_folders``),
not each time a channel opens: a folder taken away while processes run is an outage to
wait out, not something to paper over.
"""

import contextlib
import os
import uuid
from json import JSONDecodeError
from pathlib import Path
from time import monotonic

from celery import Celery
from celery.app.utils import Settings
from kombu import Exchange, Queue
from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.json import dumps, loads

FILESYSTEM_FOLDERS = ("data_folder_in", "data_folder_out", "control_folder", "processed_folder")


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):  # type: ignore[no-untyped-def]
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        hidden = os.path.join(self.data_folder_out, f".{name}.tmp")  # never matches a queue
        try:
            with open(hidden, "wb") as f_obj:
                f_obj.write(dumps(payload).encode())
            os.replace(hidden, final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.remove(hidden)
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc

    def get_table(self, exchange):  # type: ignore[no-untyped-def]
        file = self._exchange_file(exchange)
        try:
            with file.open("r") as f_obj:
                filesystem.lock(f_obj, filesystem.LOCK_SH)
                try:
                    content = f_obj.read()
                finally:
                    filesystem.unlock(f_obj)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise ChannelError(f"Cannot open {file}") from exc
        try:
            return [filesystem.exchange_queue_t(*q) for q in loads(content)] if content else []
        except JSONDecodeError as exc:
            raise ChannelError(f"Corrupt exchange table {file}") from exc

    def _queue_bind(self, exchange, routing_key, pattern, queue):  # type: ignore[no-untyped-def]
        file = self._exchange_file(exchange)
        self.control_folder.mkdir(parents=True, exist_ok=True)
        entry = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        try:
            with file.open("a+b", buffering=0) as f_obj:
                filesystem.lock(f_obj, filesystem.LOCK_EX)
                try:
                    f_obj.seek(0)
                    content = f_obj.read()
                    table = (
                        [filesystem.exchange_queue_t(*q) for q in loads(content)] if content else []
                    )
                    if entry not in table:
                        table.insert(0, entry)
                        f_obj.seek(0)
                        f_obj.truncate()
                        f_obj.write(dumps(table).encode())
                finally:
                    filesystem.unlock(f_obj)
        except OSError as exc:
            raise ChannelError(f"Cannot open {file}") from exc


class Transport(filesystem.Transport):
    Channel = Channel


TRANSPORT_ALIASES["filesystem"] = "project.broker:Transport"


def make_filesystem_folders(conf: Settings) -> None:
    """Make the folders a ``filesystem://`` broker's transport options name (if missing)."""
    if not (conf.broker_url or "").startswith("filesystem://"):
        return
    options = conf.broker_transport_options or {}
    for option in FILESYSTEM_FOLDERS:
        if option in options:
            Path(options[option]).mkdir(parents=True, exist_ok=True)


def quorum_queue(name: str, *, delivery_limit: int) -> Queue:
    """A durable RabbitMQ quorum queue that parks poison messages instead of looping.

    A message redelivered ``delivery_limit`` times (its worker died on it each time) goes
    to the ``<name>.dead`` queue through the dead-letter exchange, where an operator can
    look at it. The exchange is a topic exchange, which Celery's native delayed delivery
    (countdowns and retries on quorum queues) requires.
    """
    return Queue(
        name,
        Exchange(name, type="topic"),
        routing_key=name,
        queue_arguments={
            "x-queue-type": "quorum",
            "x-delivery-limit": delivery_limit,
            "x-dead-letter-exchange": f"{name}.dead",
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        },
    )


def declare_dead_letter_queues(app: Celery) -> None:
    """Declare ``<queue>.dead`` (and its exchange) for every quorum queue of ``app``."""
    with app.connection_for_write() as conn:
        channel = conn.default_channel
        for queue in app.conf.task_queues or ():
            if (queue.queue_arguments or {}).get("x-queue-type") != "quorum":
                continue
            exchange = Exchange(f"{queue.name}.dead", type="fanout", durable=True)
            Queue(
                f"{queue.name}.dead",
                exchange,
                queue_arguments={"x-queue-type": "quorum"},
            ).bind(channel).declare()
