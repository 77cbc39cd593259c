"""The asynchronous payment's callback: the sandbox settles a pending charge, then tells the
app with a signed POST, as a provider's webhook does.

The body is signed exactly as the app verifies it: ``X-Gateway-Signature: sha256=<hex
HMAC-SHA256 of the raw body with the shared secret>``. A callback the app does not take
(down, or any answer but a 2xx) is sent again with backoff, a bounded number of times.
"""

import asyncio
import hashlib
import hmac
import json
import logging

import httpx

from .config import Config
from .storage import Ledger

logger = logging.getLogger("sandbox.callbacks")

SIGNATURE_HEADER = "X-Gateway-Signature"
MAX_SENDS = 8
MAX_BACKOFF = 10.0


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def body_for(charge_id: str, *, succeeded: bool, reason: str = "") -> bytes:
    status = "succeeded" if succeeded else "failed"
    return json.dumps({"charge_id": charge_id, "status": status, "reason": reason}).encode()


class Callbacks:
    """Schedules and sends callbacks on the server's event loop."""

    def __init__(self, config: Config, ledger: Ledger) -> None:
        self.config = config
        self.ledger = ledger
        self._tasks: set[asyncio.Task] = set()

    def schedule(self, charge_id: str) -> None:
        if not self.config.callback_url:
            return
        task = asyncio.get_running_loop().create_task(self._settle_and_send(charge_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def resume(self) -> None:
        """After a restart: pending charges still get their callback."""
        for charge in self.ledger.charges():
            if charge["status"] == "pending":
                self.schedule(charge["id"])

    async def _settle_and_send(self, charge_id: str) -> None:
        await asyncio.sleep(self.config.callback_delay)
        if not await asyncio.to_thread(self.ledger.settle, charge_id, succeeded=True):
            return  # voided meanwhile: nothing to confirm
        body = body_for(charge_id, succeeded=True)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self.config.webhook_secret, body),
        }
        async with httpx.AsyncClient(timeout=10) as client:
            for send in range(1, MAX_SENDS + 1):
                try:
                    response = await client.post(
                        self.config.callback_url, content=body, headers=headers
                    )
                    if response.is_success:
                        logger.info("Callback for %s: %s", charge_id, response.status_code)
                        return
                    # Not taken (the app may not have recorded the charge yet): sent again.
                    logger.warning("Callback for %s: %s", charge_id, response.status_code)
                except httpx.HTTPError as exc:
                    logger.warning("Callback for %s failed: %s", charge_id, exc)
                await asyncio.sleep(min(MAX_BACKOFF, 0.5 * 2**send))
        logger.error("Callback for %s given up after %s sends", charge_id, MAX_SENDS)
