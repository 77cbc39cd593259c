"""Who may see the pages beside the API: health, readiness, metrics, docs, admin, Flower.

Public, by decision (README, "Who may call what"): ``/healthz`` and ``/readyz`` (load
balancers and orchestrators probe them without credentials; they say up or down and
nothing else), ``/metrics`` (Prometheus scrapes it on the private network, like
compose's), ``/api/schema/`` and ``/api/docs/`` (the contract is public). The admin is for
staff; Flower asks for the basic-auth credentials of ``FLOWER_BASIC_AUTH``.
"""

import base64
import os
import signal
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from django.test import Client

from tests.processes import BIN, ROOT, process_env, wait_until

from .conftest import answers, free_port

FLOWER_USER, FLOWER_PASSWORD = "ops", "flower-matrix-secret"
PUBLIC_PAGES = ["/healthz", "/readyz", "/metrics", "/api/schema/", "/api/docs/"]


@pytest.fixture
def sessions(customer, other_customer, staff) -> dict[str, Client]:  # type: ignore[no-untyped-def]
    """Browser sessions: the admin and the pages use the session, not tokens."""
    clients = {"anonymous": Client()}
    for role, user in [
        ("customer", customer),
        ("other_customer", other_customer),
        ("staff", staff),
    ]:
        clients[role] = Client()
        clients[role].force_login(user)
    return clients


@pytest.mark.parametrize("path", PUBLIC_PAGES)
@pytest.mark.parametrize("role", ["anonymous", "customer", "other_customer", "staff"])
def test_the_public_pages_answer_everyone(sessions, path, role):
    assert sessions[role].get(path).status_code == 200


@pytest.mark.parametrize(
    ("role", "expected"),
    [("anonymous", 302), ("customer", 302), ("other_customer", 302), ("staff", 200)],
)
def test_the_admin_is_for_staff_and_sends_anyone_else_to_its_login(sessions, role, expected):
    response = sessions[role].get("/admin/")

    assert response.status_code == expected
    if expected == 302:
        assert response["Location"].startswith("/admin/login/")


@pytest.fixture(scope="module")
def flower(django_db_setup, django_db_blocker) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A real Flower on the test broker, with basic auth as compose and `make run` set it."""
    port = free_port()
    with django_db_blocker.unblock():
        env = process_env(FLOWER_BASIC_AUTH=f"{FLOWER_USER}:{FLOWER_PASSWORD}")
    env.pop("FLOWER_UNAUTHENTICATED_API", None)
    process = subprocess.Popen(
        [str(BIN / "celery"), "-A", "project", "flower", "--address=127.0.0.1", f"--port={port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(
            lambda: process.poll() is None and answers(f"{url}/healthcheck"),
            timeout=60,
            message="Flower to answer",
        )
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def flower_status(url: str, credentials: str | None) -> int:
    request = urllib.request.Request(url)
    if credentials is not None:
        token = base64.b64encode(credentials.encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.parametrize("page", ["/", "/tasks", "/api/workers", "/api/tasks"])
def test_flower_answers_only_its_basic_auth_credentials(flower, page):
    assert flower_status(flower + page, None) == 401
    assert flower_status(flower + page, f"{FLOWER_USER}:wrong") == 401
    assert flower_status(flower + page, f"admin:{FLOWER_PASSWORD}") == 401
    assert flower_status(flower + page, f"{FLOWER_USER}:{FLOWER_PASSWORD}") == 200
