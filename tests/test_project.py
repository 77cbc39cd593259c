"""The project as a whole: migrations, operations endpoints, API docs, the import contract."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from orders.services import LineInput, order_place

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@pytest.mark.django_db
def test_the_models_have_no_migration_missing():
    # Exits with status 1 (SystemExit) when a model change lacks its migration.
    call_command("makemigrations", check=True, dry_run=True, verbosity=0)


def test_healthz_answers_without_the_database():
    response = APIClient().get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_the_database_and_the_broker_reachable():
    response = APIClient().get("/readyz")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "status": "ok",
        "database": {"status": "ok"},
        "broker": {"status": "ok"},
    }


@pytest.mark.django_db
def test_metrics_count_the_pending_outbox(customer, catalog):
    # Inside the test's transaction nothing is published: the event waits in the outbox.
    order_place(customer=customer, lines=[LineInput("MUG-LOGO", 1)], payment_token="tok_ok")

    response = APIClient().get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    metrics = response.content.decode()
    assert "\nevents_outbox_pending 1.0\n" in metrics
    assert "events_dead_letters_open 0.0" in metrics


@pytest.mark.django_db
def test_the_openapi_schema_describes_the_order_api():
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/orders/", "/api/orders/{order_id}/cancel/", "/api/event-types/"} <= set(
        schema["paths"]
    )


@pytest.mark.django_db
def test_the_swagger_ui_is_served():
    response = APIClient().get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger-ui" in response.content


def test_the_apps_import_one_way_so_events_never_imports_the_domain_apps():
    result = subprocess.run(
        [str(BIN / "lint-imports")], cwd=ROOT, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stdout + result.stderr
    report = " ".join(result.stdout.split())  # long contract names wrap
    layers = "project, then orders, then notifications, then events"
    assert f"The apps depend one way: {layers} KEPT" in report
