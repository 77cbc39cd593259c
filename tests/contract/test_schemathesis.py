"""The API holds its OpenAPI contract under generated input: schemathesis, every check.

schemathesis (from PyPI, a dev dependency) reads ``/api/schema/`` from a real server on
the test database and sends each operation generated requests, valid and invalid, as a
customer and as staff. Every check runs (``--checks all``): no 5xx, every status, header
and body as documented, invalid input refused, valid input accepted, authentication not
ignored. ``tests/contract/schemathesis.toml`` holds what is configured and why.

``make contract`` runs this module on the embedded default; ``make test`` runs it there and
in the PostgreSQL pass. ``CONTRACT_MAX_EXAMPLES`` (default 10 per operation) and
``CONTRACT_SEED`` (default fixed, so CI is repeatable; ``random`` for a new one) tune it.
"""

import os
import random
import re
import subprocess
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.processes import BIN, ROOT

from .conftest import Caller, WebServer

pytestmark = pytest.mark.contract

CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = os.environ.get("CONTRACT_MAX_EXAMPLES", "10")
SEED = os.environ.get("CONTRACT_SEED", "20261201")
RUN_TIMEOUT = 900


def schemathesis(server: WebServer, caller: Caller) -> tuple[subprocess.CompletedProcess, str]:
    """Run ``schemathesis run`` against ``server`` as ``caller``; its output is kept."""
    seed = str(random.randrange(2**32)) if SEED == "random" else SEED
    report = Path(settings.VAR_DIR) / "contract" / f"schemathesis-{caller.name}.txt"
    report.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    result = subprocess.run(
        [
            str(BIN / "schemathesis"),
            "--config-file",
            str(CONFIG),
            "--no-color",
            "run",
            f"{server.url}/api/schema/",
            "--checks",
            "all",
            "--header",
            f"Authorization: Token {caller.token}",
            "--max-examples",
            MAX_EXAMPLES,
            "--seed",
            seed,
            "--workers",
            "2",
            "--report-dir",
            str(report.parent / f"report-{caller.name}"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    output = result.stdout + result.stderr
    report.write_text(f"{output}\nseconds: {time.monotonic() - started:.0f}\n")
    return result, output


def summary(output: str) -> str:
    """The lines that say how many operations and cases ran, and how many failed."""
    keep = re.compile(r"Selected:|Tested:|generated|passed|failures|Seed:|={5,}")
    return "\n".join(line for line in output.splitlines() if keep.search(line))


@pytest.mark.parametrize("role", ["customer", "staff"])
def test_every_operation_holds_its_contract_under_every_check(
    role: str, web_server: WebServer, callers: dict[str, Caller]
) -> None:
    result, output = schemathesis(web_server, callers[role])

    assert result.returncode == 0, f"{output[-20000:]}\n--- server log ---\n{web_server.log()}"
    tested = re.search(r"Tested: (\d+)", output)
    assert tested and int(tested.group(1)) >= 40, summary(output)
    assert re.search(r"\d+ generated, (\d+) passed", output), summary(output)
    print(f"\nschemathesis as {role}:\n{summary(output)}")
