"""A webhook receiver on 127.0.0.1 for the tests, and a resolver they can set.

The receiver verifies each request with the ``standardwebhooks`` package from PyPI, as a
real receiver would, not with the project's signing code, and answers as the test says.
"""

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

# ``PROBE_WEBHOOK_HOSTS=name=address,...`` makes worker processes resolve those names so
# (tests/probe/apps.py installs the resolver).
HOSTS_VARIABLE = "PROBE_WEBHOOK_HOSTS"


def static_resolver(hosts: dict[str, str]) -> Callable[[str, int], list[str]]:
    """Resolve the names in ``hosts`` to their address; any other name does not resolve."""

    def resolve(host: str, port: int) -> list[str]:
        if host not in hosts:
            raise OSError(f"{host} is not known to this test")
        return [hosts[host]]

    return resolve


@dataclass
class Received:
    """One request as the receiver saw it."""

    headers: dict[str, str]
    body: bytes
    status: int
    verified: bool
    error: str = ""
    at: float = field(default_factory=time.monotonic)

    @property
    def envelope(self) -> dict[str, Any]:
        return json.loads(self.body)

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


# What to answer to a request: a status, and how long to wait first.
Answer = Callable[[Received], tuple[int, float]]


class Receiver:
    """A threaded HTTP server that records and verifies every webhook it gets."""

    def __init__(self) -> None:
        self.secrets: list[str] = []
        self.answer: Answer = lambda request: (200, 0.0)
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, host: str = "127.0.0.1", path: str = "/hooks") -> str:
        return f"http://{host}:{self.port}{path}"

    def start(self) -> "Receiver":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def requests(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def succeeded(self) -> list[Received]:
        return [r for r in self.requests() if 200 <= r.status < 300]

    def trust(self, secret: str) -> None:
        """Accept requests signed with ``secret`` (a subscription's)."""
        self.secrets.append(secret)

    def _verify(self, body: bytes, headers: dict[str, str]) -> str:
        """Why the request is not genuine, or "" when one of the secrets verifies it."""
        errors = []
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
            except WebhookVerificationError as exc:
                errors.append(str(exc))
            else:
                return ""
        return f"verification failed: {errors or 'no secret to check with'}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                error = receiver._verify(body, headers)
                request = Received(headers, body, status=0, verified=not error, error=error)
                status, delay = (401, 0.0) if error else receiver.answer(request)
                request.status = status
                with receiver.lock:
                    receiver.received.append(request)
                time.sleep(delay)
                payload = json.dumps({"received": headers.get("webhook-id")}).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the sender gave up waiting (a timeout test)
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
