"""Waking the relay when an outbox row commits: PostgreSQL LISTEN/NOTIFY, else polling.

On PostgreSQL a trigger on the outbox table sends ``NOTIFY events_outbox`` with each
committing insert (see migrations). The notification is only a hint: the relay also
polls, so a missed notification costs at most one interval.
"""

import time
from typing import Protocol

from django.db import connection

CHANNEL = "events_outbox"


class Waiter(Protocol):
    def wait(self, timeout: float) -> None: ...

    def close(self) -> None: ...


class PollingWaiter:
    def wait(self, timeout: float) -> None:
        time.sleep(timeout)

    def close(self) -> None:
        pass


class PostgresWaiter:
    """Blocks on its own autocommit connection until a notification or the timeout."""

    def __init__(self) -> None:
        params = connection.get_connection_params()
        # Errors surface as Django's DatabaseError, like those of the ORM.
        with connection.wrap_database_errors:
            self._conn = connection.Database.connect(**params, autocommit=True)
            try:
                self._conn.execute(f"LISTEN {CHANNEL}")
            except connection.Database.Error:
                self._conn.close()
                raise

    def wait(self, timeout: float) -> None:
        with connection.wrap_database_errors:
            for _ in self._conn.notifies(timeout=timeout, stop_after=1):
                break

    def close(self) -> None:
        self._conn.close()


def waiter() -> Waiter:
    return PostgresWaiter() if connection.vendor == "postgresql" else PollingWaiter()
