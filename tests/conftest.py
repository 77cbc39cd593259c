import os
from collections.abc import Callable, Iterator

import pytest
from django.conf import settings as django_settings
from django.test import Client

from events import dispatch
from events.workflows import Workflow, register, unregister
from tests.factories import client_for, make_catalog, make_user
from tests.fakes import RecordingBroker
from tests.sandbox_process import Sandbox

# The helpers assert as the tests do: their failures are reported the same way.
pytest.register_assert_rewrite("tests.helpers", "tests.integration.helpers")


@pytest.fixture
def customer(db):  # type: ignore[no-untyped-def]
    return make_user("alice")


@pytest.fixture
def other_customer(db):  # type: ignore[no-untyped-def]
    return make_user("bob")


@pytest.fixture
def staff(db):  # type: ignore[no-untyped-def]
    return make_user("admin", staff=True)


@pytest.fixture
def catalog(db):  # type: ignore[no-untyped-def]
    return make_catalog()


@pytest.fixture
def customer_client(customer):  # type: ignore[no-untyped-def]
    return client_for(customer)


@pytest.fixture
def other_client(other_customer):  # type: ignore[no-untyped-def]
    return client_for(other_customer)


@pytest.fixture
def staff_client(staff):  # type: ignore[no-untyped-def]
    return client_for(staff)


@pytest.fixture(autouse=True)
def fast_passwords(settings):  # type: ignore[no-untyped-def]
    """Hashing test users' passwords the slow, safe way only costs time here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def superuser_client(staff) -> Client:  # type: ignore[no-untyped-def]
    """A browser session of the admin, as the admin site sees it."""
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture
def broker() -> Iterator[RecordingBroker]:
    """Every message the engine sends, recorded instead of sent (see tests.fakes).

    The real broker is in tests/integration.
    """
    recording = RecordingBroker()
    previous = dispatch.set_publisher(recording)
    yield recording
    dispatch.set_publisher(previous)


@pytest.fixture
def no_fast_path(settings) -> None:  # type: ignore[no-untyped-def]
    """Emit without the after-commit publish: the test decides what is published when."""
    settings.EVENTS = {**getattr(settings, "EVENTS", {}), "PUBLISH_ON_COMMIT": False}


@pytest.fixture
def register_workflow() -> Iterator[Callable[[Workflow], Workflow]]:
    """Register workflows for one test; they are unregistered after it."""
    names: list[str] = []

    def register_for_test(workflow: Workflow) -> Workflow:
        names.append(workflow.name)
        return register(workflow)

    yield register_for_test
    for name in names:
        unregister(name)


@pytest.fixture(scope="session", autouse=True)
def suite_sandbox() -> Iterator[Sandbox]:
    """The payment provider's and carrier's sandbox: a real process for the whole suite.

    The app reaches it over HTTP (settings.SANDBOX_URL), and so does every worker process
    a test starts (SANDBOX_URL in their environment). It sends no callbacks: the tests
    that need the real ``tok_async`` callback start a sandbox of their own.
    """
    process = Sandbox().start()
    previous = os.environ.get("SANDBOX_URL")
    os.environ["SANDBOX_URL"] = process.url
    django_settings.SANDBOX_URL = process.url
    yield process
    process.stop()
    if previous is None:
        os.environ.pop("SANDBOX_URL", None)
    else:
        os.environ["SANDBOX_URL"] = previous


@pytest.fixture
def sandbox(suite_sandbox: Sandbox) -> Iterator[Sandbox]:
    """The suite's sandbox, its faults cleared after the test."""
    yield suite_sandbox
    suite_sandbox.clear_faults()
