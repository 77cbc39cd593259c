"""The sandbox's ledger: charges, refunds and shipments in its own SQLite file.

Every write is keyed by the client's idempotency key, so a retried request finds what
the first one did instead of doing it again. One connection per call, and SQLite's own
write lock (``BEGIN IMMEDIATE``) serialises writers, so several requests at once stay
consistent.
"""

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS charges (
    id TEXT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    token TEXT NOT NULL,
    amount TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS attempts (
    idempotency_key TEXT PRIMARY KEY,
    count INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS refunds (
    id TEXT PRIMARY KEY,
    charge_id TEXT NOT NULL UNIQUE REFERENCES charges(id),
    amount TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS shipments (
    id TEXT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    tracking_number TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL
);
"""

# A charge's statuses. "succeeded" and "refunded" took the money; "canceled" was a
# pending charge voided before it settled.
PENDING, SUCCEEDED, FAILED, REFUNDED, CANCELED = (
    "pending",
    "succeeded",
    "failed",
    "refunded",
    "canceled",
)
CAPTURED = (SUCCEEDED, REFUNDED)


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Ledger:
    """The sandbox's storage. Methods return plain dicts, ready to answer with."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=30)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
        finally:
            db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        finally:
            db.close()

    def _read(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
        db = sqlite3.connect(self.path, timeout=30)
        db.row_factory = sqlite3.Row
        try:
            return [dict(row) for row in db.execute(sql, params)]
        finally:
            db.close()

    # --- charges ------------------------------------------------------------------------

    def count_attempt(self, key: str) -> int:
        """Count one more request for ``key``; return how many there were, this one included."""
        with self._write() as db:
            db.execute(
                "INSERT INTO attempts (idempotency_key, count) VALUES (?, 1) "
                "ON CONFLICT (idempotency_key) DO UPDATE SET count = count + 1",
                (key,),
            )
            return db.execute(
                "SELECT count FROM attempts WHERE idempotency_key = ?", (key,)
            ).fetchone()[0]

    def charge_for_key(self, key: str) -> dict[str, Any] | None:
        rows = self._read("SELECT * FROM charges WHERE idempotency_key = ?", (key,))
        return rows[0] if rows else None

    def create_charge(self, *, key: str, token: str, amount: str, status: str) -> dict[str, Any]:
        """Record a charge once per key: a second request with the key gets the first one."""
        now = _now()
        with self._write() as db:
            db.execute(
                "INSERT INTO charges (id, idempotency_key, token, amount, status, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING",
                (f"ch_{uuid.uuid4().hex[:20]}", key, token, amount, status, now, now),
            )
            row = db.execute("SELECT * FROM charges WHERE idempotency_key = ?", (key,)).fetchone()
        return dict(row)

    def charge(self, charge_id: str) -> dict[str, Any] | None:
        rows = self._read("SELECT * FROM charges WHERE id = ?", (charge_id,))
        return rows[0] if rows else None

    def settle(self, charge_id: str, *, succeeded: bool) -> bool:
        """Settle a pending charge; False if it was not pending any more (voided meanwhile)."""
        with self._write() as db:
            changed = db.execute(
                "UPDATE charges SET status = ?, updated_at = ? WHERE id = ? AND status = ?",
                (SUCCEEDED if succeeded else FAILED, _now(), charge_id, PENDING),
            ).rowcount
        return bool(changed)

    def refund(self, charge_id: str) -> dict[str, Any] | None:
        """Give a charge's money back once (a pending one is voided); None if unknown."""
        with self._write() as db:
            row = db.execute("SELECT * FROM charges WHERE id = ?", (charge_id,)).fetchone()
            if row is None:
                return None
            if row["status"] == PENDING:
                db.execute(
                    "UPDATE charges SET status = ?, updated_at = ? WHERE id = ?",
                    (CANCELED, _now(), charge_id),
                )
            elif row["status"] == SUCCEEDED:
                db.execute(
                    "INSERT INTO refunds (id, charge_id, amount, created_at) VALUES (?, ?, ?, ?)",
                    (f"re_{uuid.uuid4().hex[:20]}", charge_id, row["amount"], _now()),
                )
                db.execute(
                    "UPDATE charges SET status = ?, updated_at = ? WHERE id = ?",
                    (REFUNDED, _now(), charge_id),
                )
            charge = db.execute("SELECT * FROM charges WHERE id = ?", (charge_id,)).fetchone()
            refund = db.execute(
                "SELECT * FROM refunds WHERE charge_id = ?", (charge_id,)
            ).fetchone()
        return {**dict(charge), "refund": dict(refund) if refund else None}

    def charges(self) -> list[dict[str, Any]]:
        return self._read("SELECT * FROM charges ORDER BY created_at, id")

    def refunds(self) -> list[dict[str, Any]]:
        return self._read("SELECT * FROM refunds ORDER BY created_at, id")

    # --- shipments ----------------------------------------------------------------------

    def book_shipment(self, key: str) -> dict[str, Any]:
        """Book a parcel once per key; the same key always gives the same tracking number."""
        with self._write() as db:
            db.execute(
                "INSERT INTO shipments (id, idempotency_key, tracking_number, status, created_at) "
                "VALUES (?, ?, ?, 'booked', ?) ON CONFLICT (idempotency_key) DO NOTHING",
                (f"shp_{uuid.uuid4().hex[:20]}", key, f"SP{uuid.uuid4().hex[:12].upper()}", _now()),
            )
            row = db.execute("SELECT * FROM shipments WHERE idempotency_key = ?", (key,)).fetchone()
        return dict(row)

    def cancel_shipment(self, tracking_number: str) -> dict[str, Any] | None:
        with self._write() as db:
            db.execute(
                "UPDATE shipments SET status = 'canceled' WHERE tracking_number = ?",
                (tracking_number,),
            )
            row = db.execute(
                "SELECT * FROM shipments WHERE tracking_number = ?", (tracking_number,)
            ).fetchone()
        return dict(row) if row else None

    def shipments(self) -> list[dict[str, Any]]:
        return self._read("SELECT * FROM shipments ORDER BY created_at, id")
