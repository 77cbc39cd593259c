"""Real processes for integration tests: celery workers (and others) on the test database."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
from django.conf import settings
from django.db import connection

from project.celery import app

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def process_env(**extra: str) -> dict[str, str]:
    """The environment of a process that must see the test database and broker."""
    env = dict(os.environ)
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        env["SQLITE_PATH"] = str(db["NAME"])
    else:
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        )
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def wait_until(predicate: Callable[[], object], *, timeout: float, message: str) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout}s waiting for {message}")
        time.sleep(0.05)


LIVE_WORKERS: set["Worker"] = set()


class Worker:
    """One ``celery worker`` process, started and stopped by a test."""

    def __init__(self, *, concurrency: int = 2, env: dict[str, str] | None = None) -> None:
        self.name = f"test-{uuid.uuid4().hex[:8]}@localhost"
        self.log_path = Path(settings.VAR_DIR) / "logs" / f"{self.name.split('@')[0]}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.concurrency = concurrency
        self.env = env or {}
        self.process: subprocess.Popen | None = None

    def start(self) -> "Worker":
        return self.launch().wait_ready()

    def launch(self) -> "Worker":
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                str(BIN / "celery"),
                "-A",
                "project",
                "worker",
                "--loglevel=INFO",
                f"--concurrency={self.concurrency}",
                "--pool=prefork",
                f"--hostname={self.name}",
                f"--queues={settings.CELERY_TASK_DEFAULT_QUEUE}",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=process_env(C_FORCE_ROOT="1", **self.env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        LIVE_WORKERS.add(self)
        return self

    def wait_ready(self) -> "Worker":
        wait_until(self._ready, timeout=60, message=f"worker {self.name} to answer a ping")
        return self

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"Worker exited early:\n{self.log()}")
        return bool(app.control.ping(destination=[self.name], timeout=0.5))

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def kill(self) -> None:
        """SIGKILL the whole process group: the main process and its pool children."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        LIVE_WORKERS.discard(self)

    def stop(self) -> None:
        LIVE_WORKERS.discard(self)
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()


def clear_broker() -> None:
    """Start from an empty test queue: nothing left over from an earlier, aborted run."""
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        broker_dir = Path(settings.BROKER_DIR)
        for folder in ("queue", "control", "processed"):
            shutil.rmtree(broker_dir / folder, ignore_errors=True)
            (broker_dir / folder).mkdir(parents=True, exist_ok=True)
        return
    if _on_redis():
        import redis

        try:
            _redis().ping()
        except redis.AuthenticationError:  # an outage of an aborted run is still on
            _redis(password=REDIS_OUTAGE_PASSWORD).config_set("requirepass", "")
        # The test database of Redis is the suite's own: its queues, bindings and the
        # unacknowledged messages a killed worker left behind all go.
        _redis().flushdb()
        return
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=3)
        channel = conn.channel()
        # Deleted, not purged: the workers declare it afresh with the current arguments.
        for delete in (channel.queue_delete, channel.exchange_delete):
            with contextlib.suppress(Exception):  # none yet
                delete(settings.CELERY_TASK_DEFAULT_QUEUE)
            channel = conn.channel()  # a failed delete closes the channel


class Relay:
    """One ``manage.py relay`` process on the test database and broker."""

    def __init__(
        self, *, interval: float = 0.2, batch_size: int = 500, env: dict[str, str] | None = None
    ) -> None:
        self.log_path = Path(settings.VAR_DIR) / "logs" / f"relay-{uuid.uuid4().hex[:8]}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.interval = interval
        self.batch_size = batch_size
        self.env = env or {}
        self.process: subprocess.Popen | None = None

    def start(self) -> "Relay":
        self.process = subprocess.Popen(
            [
                str(BIN / "python"),
                "manage.py",
                "relay",
                f"--interval={self.interval}",
                f"--batch-size={self.batch_size}",
            ],
            cwd=ROOT,
            env=process_env(LOG_LEVEL="INFO", **self.env),
            stdout=self.log_path.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(
            lambda: "Relay started" in self.running_log(), timeout=30, message="the relay to start"
        )
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def running_log(self) -> str:
        """The log so far, from a relay that must still be running."""
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"The relay exited:\n{self.log()[-5000:]}")
        return self.log()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def queue_depth() -> int:
    """Messages waiting in the test queue (no worker consuming)."""
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        folder = Path(settings.BROKER_DIR) / "queue"
        return sum(1 for name in os.listdir(folder) if name.endswith(f".{queue}.msg"))
    if _on_redis():
        return int(_redis().llen(queue))  # a queue is a list; an empty one does not exist
    with app.connection_for_write() as conn:
        return conn.default_channel.queue_declare(queue=queue, passive=True).message_count


@contextlib.contextmanager
def broker_outage():  # type: ignore[no-untyped-def]
    """The broker is unreachable inside the block, and back after it."""
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        # This process makes the broker's folders when its Celery app is configured:
        # that must happen before they go away, as it does in any process up before an outage.
        assert app.conf.broker_url.startswith("filesystem://")
        queue = Path(settings.BROKER_DIR) / "queue"
        away = queue.with_name("queue-away")
        queue.rename(away)
        try:
            yield
        finally:
            away.rename(queue)
        return
    if _on_redis():
        # Redis refuses every client until the password is lifted: publishes fail at once,
        # as they would with the server gone, and the server stays up to be given back.
        admin = _redis()
        admin.config_set("requirepass", REDIS_OUTAGE_PASSWORD)
        admin.client_kill_filter(_type="normal", skipme=True)
        try:
            yield
        finally:
            admin = _redis(password=REDIS_OUTAGE_PASSWORD)
            admin.config_set("requirepass", "")
        return
    subprocess.run(["rabbitmqctl", "stop_app"], check=True, capture_output=True, timeout=120)
    try:
        yield
    finally:
        subprocess.run(["rabbitmqctl", "start_app"], check=True, capture_output=True, timeout=120)
        subprocess.run(
            ["rabbitmqctl", "await_startup"], check=True, capture_output=True, timeout=120
        )


REDIS_OUTAGE_PASSWORD = "broker-outage"  # a test's switch, not a secret


def _on_redis() -> bool:
    return settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://"))


def _redis(**options: str):  # type: ignore[no-untyped-def]
    import redis

    return redis.Redis.from_url(settings.CELERY_BROKER_URL, **options)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
