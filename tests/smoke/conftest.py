"""The whole system as ``make run`` starts it, for smoke tests in a real browser.

``system`` runs ``honcho start -f Procfile`` (web, worker, beat, flower, relay, sandbox) on
the embedded default (SQLite + filesystem broker) in a temporary ``VAR_DIR``, on free
ports, with the demo data seeded. ``browser`` is Debian's Chromium, driven by Playwright.
"""

import contextlib
import os
import re
import signal
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.processes import BIN, ROOT, answers, free_port, wait_until

CHROMIUM = "/usr/bin/chromium"
FLOWER_USER, FLOWER_PASSWORD = "admin", "smoke-secret"
STARTUP_TIMEOUT = 60
# The embedded default, as `make run` has it: no server URLs, no database path override.
UNSET = ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "SQLITE_PATH")


@dataclass
class System:
    var_dir: Path
    web_port: int
    flower_port: int
    log_path: Path
    process: subprocess.Popen | None = None

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def flower_url(self) -> str:
        return f"http://127.0.0.1:{self.flower_port}"

    def log_tail(self, lines: int = 80) -> str:
        """The last lines honcho logged, a run of repeats (a polled URL) folded into one."""
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no honcho log)"
        folded: list[str] = []
        repeats = 0
        for line in text.splitlines():
            if folded and _without_times(line) == _without_times(folded[-1]):
                repeats += 1
                continue
            if repeats:
                folded.append(f"    ... {repeats} more like the line above")
                repeats = 0
            folded.append(line)
        if repeats:
            folded.append(f"    ... {repeats} more like the line above")
        return "\n".join(folded[-lines:])

    def wait_until(self, predicate, *, timeout: float, message: str):  # type: ignore[no-untyped-def]
        """``wait_until`` that names what the processes logged when it times out."""
        try:
            return wait_until(predicate, timeout=timeout, message=message)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- honcho log (tail) ---\n{self.log_tail()}") from None


def _without_times(line: str) -> str:
    return re.sub(r"\d{2}:\d{2}:\d{2}(,\d+)?|\d{2}/\w{3}/\d{4}|\d{4}-\d{2}-\d{2}", "", line)


def system_env(var_dir: Path, web_port: int, flower_port: int) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in UNSET}
    env.update(
        VAR_DIR=str(var_dir),
        WEB_PORT=str(web_port),
        FLOWER_PORT=str(flower_port),
        FLOWER_URL=f"http://127.0.0.1:{flower_port}",
        FLOWER_BASIC_AUTH=f"{FLOWER_USER}:{FLOWER_PASSWORD}",
        # The Procfile's sandbox on a port of its own (not the suite's sandbox), calling
        # this system's web process back.
        SANDBOX_URL=f"http://127.0.0.1:{free_port()}",
        SANDBOX_CALLBACK_URL=f"http://127.0.0.1:{web_port}/api/payments/callback/",
        DJANGO_DEBUG="true",
        CELERY_TASK_DEFAULT_QUEUE=f"smoke-{uuid.uuid4().hex[:8]}",
        LOG_LEVEL="INFO",
        C_FORCE_ROOT="1",
        PYTHONUNBUFFERED="1",
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    return env


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    # honcho may exit before a straggler of its group: leave nothing running.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def system() -> Iterator[System]:
    with tempfile.TemporaryDirectory(prefix="smoke-") as tmp:
        var_dir = Path(tmp).resolve()
        system = System(
            var_dir=var_dir,
            web_port=free_port(),
            flower_port=free_port(),
            log_path=var_dir / "honcho.log",
        )
        env = system_env(var_dir, system.web_port, system.flower_port)
        for command in (["migrate", "--noinput"], ["seed_demo"]):
            result = subprocess.run(
                [str(BIN / "python"), "manage.py", *command],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert result.returncode == 0, (
                f"manage.py {' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
            )
        with system.log_path.open("wb") as log:
            system.process = subprocess.Popen(
                [str(BIN / "honcho"), "start", "-f", "Procfile"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            system.wait_until(
                lambda: _running(system) and answers(f"{system.web_url}/healthz"),
                timeout=STARTUP_TIMEOUT,
                message="the web process to answer /healthz",
            )
            system.wait_until(
                lambda: _running(system) and answers(system.flower_url),
                timeout=STARTUP_TIMEOUT,
                message="Flower to answer",
            )
            yield system
        finally:
            stop(system.process)


def _running(system: System) -> bool:
    assert system.process is not None
    if system.process.poll() is not None:
        raise AssertionError(
            f"honcho exited with {system.process.returncode}:\n{system.log_tail()}"
        )
    return True


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    """A failed smoke test shows what web, worker, beat and flower logged."""
    report = yield
    if report.failed and call.when == "call":
        system = item.funcargs.get("system")
        if isinstance(system, System):
            report.sections.append(("honcho log (tail)", system.log_tail()))
    return report
