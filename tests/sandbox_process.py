"""The payment provider's and carrier's sandbox as a real process for the tests."""

import contextlib
import os
import signal
import subprocess
import uuid
from pathlib import Path

import httpx
from django.conf import settings

from tests.processes import BIN, ROOT, free_port, wait_until


class Sandbox:
    """The payment provider's and carrier's sandbox (``python -m sandbox``) as a process.

    On a free port, with a ledger file of its own under the test var/ directory. It can
    be stopped and started again on the same port and ledger (the provider down for a
    while), and its faults switched over its admin endpoint. Its ledger is read over its
    HTTP API, as the tests' evidence of what the provider did.
    """

    def __init__(self, *, callback_url: str = "", env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        name = f"sandbox-{uuid.uuid4().hex[:8]}"
        self.db_path = Path(settings.VAR_DIR) / "sandbox" / f"{name}.sqlite3"
        self.log_path = Path(settings.VAR_DIR) / "logs" / f"{name}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.env = {
            "SANDBOX_URL": self.url,
            "SANDBOX_DB_PATH": str(self.db_path),
            "SANDBOX_CALLBACK_URL": callback_url,
            "SANDBOX_CALLBACK_DELAY_SECONDS": "0.5",
            "LOG_LEVEL": "INFO",
            **(env or {}),
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> "Sandbox":
        environment = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
        self.process = subprocess.Popen(
            [str(BIN / "python"), "-m", "sandbox"],
            cwd=ROOT,
            env={**environment, **self.env},
            stdout=self.log_path.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(self._healthy, timeout=30, message=f"the sandbox on {self.url} to answer")
        return self

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"The sandbox exited:\n{self.log()[-5000:]}")
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """Kill it (SIGKILL: requests in flight are cut off, as in a crash)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    @contextlib.contextmanager
    def down(self):  # type: ignore[no-untyped-def]
        """The sandbox is unreachable inside the block, and back (same ledger) after it."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    # --- faults ----------------------------------------------------------------------------

    def set_faults(self, **faults: object) -> dict:
        """Switch faults on (``latency``, ``error_rate``, ``lose_rate``, ``lose_hold``,
        ``endpoints``); the others stay as they are."""
        response = httpx.post(f"{self.url}/_admin/faults", json=faults, timeout=5)
        assert response.status_code == 200, response.text
        return response.json()

    def clear_faults(self) -> dict:
        return self.set_faults(reset=True)

    @contextlib.contextmanager
    def faults(self, **faults: object):  # type: ignore[no-untyped-def]
        self.set_faults(**faults)
        try:
            yield
        finally:
            self.clear_faults()

    # --- the ledger, over HTTP ---------------------------------------------------------------

    def _list(self, what: str) -> list[dict]:
        response = httpx.get(f"{self.url}/v1/{what}", timeout=10)
        assert response.status_code == 200, response.text
        return response.json()["data"]

    def charges(self) -> list[dict]:
        return self._list("charges")

    def refunds(self) -> list[dict]:
        return self._list("refunds")

    def shipments(self) -> list[dict]:
        return self._list("shipments")

    def charges_for_order(self, order_id: int) -> list[dict]:
        """The charges made with the order's idempotency key (at most one, by design)."""
        from orders.gateway import charge_key
        from orders.models import Order

        key = charge_key(Order.objects.get(pk=order_id))
        return [c for c in self.charges() if c["idempotency_key"] == key]

    def captures_for_order(self, order_id: int) -> list[dict]:
        """The charges of the order that took the money (refunded ones included)."""
        return [c for c in self.charges_for_order(order_id) if c["status"] in CAPTURED]


CAPTURED = ("succeeded", "refunded")
