import pytest
from django.test import Client

from tests.factories import client_for, make_catalog, make_user


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
