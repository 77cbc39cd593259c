"""Real processes for integration tests: celery workers (and others) on the test database."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
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


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> bool:
    """The server sent an HTTP response (any status): it is listening and serving."""
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def wait_until(predicate: Callable[[], object], *, timeout: float, message: str) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout}s waiting for {message}")
        time.sleep(0.05)


def broker_redelivers() -> bool:
    """Whether the broker hands a dead worker's unacknowledged messages back (late acks).

    RabbitMQ does at once, Redis after its visibility timeout. The filesystem transport
    deletes a message as it hands it out: there the beat watchdog resends what was lost.
    """
    return not settings.CELERY_BROKER_URL.startswith("filesystem://")


# Workers whose killed tasks can come back by redelivery alone: the watchdog off, and on
# Redis a visibility timeout short enough for a test (longer than any task it runs).
LATE_ACK_ONLY = {"EVENTS_WATCHDOG_ENABLED": "false", "REDIS_VISIBILITY_TIMEOUT_SECONDS": "10"}


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
            env=process_env(**{"LOG_LEVEL": "INFO", **self.env}),
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


class WebServer:
    """The web process on the test database and broker, as each setup runs it.

    On PostgreSQL it is gunicorn with one sync worker, as docker-compose.yml runs it: the
    worker keeps its database connection between requests (``CONN_MAX_AGE``). On the
    embedded default it is ``runserver``, as the Procfile (``make run``) runs it: each
    request opens the SQLite file afresh.
    """

    def __init__(self, *, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(settings.VAR_DIR) / "logs" / f"web-{uuid.uuid4().hex[:8]}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.gunicorn = connection.vendor == "postgresql"
        self.env = env or {}
        self.process: subprocess.Popen | None = None

    def start(self) -> "WebServer":
        address = f"127.0.0.1:{self.port}"
        if self.gunicorn:
            argv = [str(BIN / "gunicorn"), "project.wsgi:application", f"--bind={address}"]
            # No control socket: it lives at one path per user, shared by every gunicorn.
            argv += ["--workers=1", "--access-logfile=-", "--no-control-socket"]
        else:
            argv = [str(BIN / "python"), "manage.py", "runserver", address, "--noreload"]
        self.process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=process_env(PYTHONUNBUFFERED="1", **self.env),
            stdout=self.log_path.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_until(self._answers, timeout=60, message=f"the web process to answer on {address}")
        except BaseException:
            self.stop()
            raise
        return self

    def _answers(self) -> bool:

        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"The web process exited:\n{self.log()[-5000:]}")
        try:
            return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def assert_running(self) -> None:
        """Still the process it was started as: never exited, no worker started again."""
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"The web process exited:\n{self.log()[-5000:]}")
        if self.gunicorn:
            boots = self.log().count("Booting worker with pid")
            assert boots == 1, f"gunicorn started {boots} workers:\n{self.log()[-5000:]}"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


@contextlib.contextmanager
def database_outage():  # type: ignore[no-untyped-def]
    """The test database cannot be reached inside the block, and is back after it.

    PostgreSQL: the database refuses new connections and its sessions are ended, while
    the server stays up for everyone else. SQLite: the file cannot be opened (a folder
    stands in its place); a connection opened before keeps the file it has, as an
    embedded database does.
    """
    if connection.vendor == "postgresql":
        name = connection.settings_dict["NAME"]
        _allow_connections(name, allow=False)
        try:
            yield
        finally:
            _allow_connections(name, allow=True)
            connection.close()  # this process's session was ended too
        return
    path = Path(connection.settings_dict["NAME"])
    away = path.with_name(f"{path.name}.away")
    path.rename(away)
    path.mkdir()
    try:
        yield
    finally:
        path.rmdir()
        away.rename(path)


def database_sessions_ended() -> None:
    """A PostgreSQL restart as its clients see it: every session of the test database ends."""
    name = connection.settings_dict["NAME"]
    _allow_connections(name, allow=False)
    _allow_connections(name, allow=True)
    connection.close()  # this process's session was one of them


def _allow_connections(database: str, *, allow: bool) -> None:
    """Let a PostgreSQL database take connections again, or refuse them and end its sessions.

    Done from the maintenance database, whose connection nothing here ends.
    """
    import psycopg
    from psycopg import sql

    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as admin:
        statement = sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS {}").format(
            sql.Identifier(database), sql.Literal(allow)
        )
        admin.execute(statement)
        if not allow:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                [database],
            )


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
