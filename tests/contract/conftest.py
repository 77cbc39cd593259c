"""A real web server on the test database, and the people who call it.

``web_server`` runs ``manage.py runserver`` (DEBUG off, as in production) in its own
process on a free port, on the test database and broker (``tests.processes.process_env``).
``callers`` are the demo roles with their tokens: a customer, another customer and staff,
each with an order of their own.
"""

import contextlib
import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from rest_framework.authtoken.models import Token

from orders.models import Order
from orders.services import LineInput, order_place
from tests.factories import make_catalog, make_user
from tests.processes import (
    BIN,
    ROOT,
    answers,
    clear_broker,
    free_port,
    process_env,
    wait_until,
)

STARTUP_TIMEOUT = 60


@dataclass
class WebServer:
    """One ``manage.py runserver`` process on the test database."""

    port: int = field(default_factory=free_port)
    log_path: Path = field(
        default_factory=lambda: Path(settings.VAR_DIR) / "logs" / f"web-{uuid.uuid4().hex[:8]}.log"
    )
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "WebServer":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [str(BIN / "python"), "manage.py", "runserver", f"127.0.0.1:{self.port}", "--noreload"],
            cwd=ROOT,
            env=process_env(DJANGO_DEBUG="false", PYTHONUNBUFFERED="1"),
            stdout=self.log_path.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(self._ready, timeout=STARTUP_TIMEOUT, message="the web server to answer")
        return self

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"The web server exited:\n{self.log()}")
        return answers(f"{self.url}/healthz")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@dataclass(frozen=True)
class Caller:
    name: str
    token: str
    order_id: int | None


@pytest.fixture
def callers(transactional_db) -> dict[str, Caller]:  # type: ignore[no-untyped-def]
    """A customer, another customer and staff, committed for the server to see."""
    make_catalog()
    people = {
        "customer": make_user("alice"),
        "other_customer": make_user("bob"),
        "staff": make_user("admin", staff=True),
    }
    result = {}
    for role, user in people.items():
        order, _ = order_place(
            customer=user, lines=[LineInput("MUG-LOGO", 1)], payment_token="tok_async"
        )
        token, _ = Token.objects.get_or_create(user=user)
        result[role] = Caller(name=user.username, token=token.key, order_id=order.pk)
    assert Order.objects.count() == 3
    return result


@pytest.fixture
def web_server(callers, django_db_blocker) -> Iterator[WebServer]:  # type: ignore[no-untyped-def]
    """The API over real HTTP; what it sent to the broker is cleared after."""
    server = WebServer().start()
    try:
        yield server
    finally:
        server.stop()
        with django_db_blocker.unblock():
            clear_broker()
            connections.close_all()
