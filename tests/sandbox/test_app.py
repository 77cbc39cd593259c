"""The sandbox's HTTP API, in process (Starlette's TestClient): idempotency, tokens, faults."""

import hashlib
import hmac
import json
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from sandbox import faults as sandbox_faults
from sandbox.app import create_app
from sandbox.config import Config


def make_client(tmp_path: Path, **faults: object) -> TestClient:
    config = Config(
        url="http://127.0.0.1:8700",
        db_path=tmp_path / "ledger.sqlite3",
        callback_url="",
        callback_delay=0,
        webhook_secret="s3cret",
    )
    current = sandbox_faults.Faults()
    current.update(faults)
    return TestClient(create_app(config, current))


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    return make_client(tmp_path)


def charge(client: TestClient, key: str, token: str = "tok_ok", amount: str = "12.50"):  # type: ignore[no-untyped-def]
    return client.post(
        "/v1/charges", json={"token": token, "amount": amount}, headers={"Idempotency-Key": key}
    )


def test_health(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_the_same_key_gives_the_same_charge_and_takes_the_money_once(client):
    first = charge(client, "k1")
    again = charge(client, "k1")

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert first.json()["status"] == "succeeded"
    ledger = client.get("/v1/charges").json()["data"]
    assert [(c["idempotency_key"], c["status"]) for c in ledger] == [("k1", "succeeded")]
    assert client.get(f"/v1/charges/{first.json()['id']}").json()["amount"] == "12.50"


def test_a_charge_needs_a_key_a_token_and_an_amount(client):
    no_key = client.post("/v1/charges", json={"token": "tok_ok", "amount": "1"})
    assert no_key.status_code == 400
    assert "Idempotency-Key" in no_key.json()["error"]["message"]
    bad = client.post("/v1/charges", json={"amount": "-1"}, headers={"Idempotency-Key": "k"})
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"token", "amount"}
    not_json = client.post("/v1/charges", content=b"[", headers={"Idempotency-Key": "k"})
    assert not_json.status_code == 400
    assert client.get("/v1/charges").json()["data"] == []


def test_a_key_reused_for_another_charge_is_a_conflict(client):
    charge(client, "k1", amount="10")
    reused = charge(client, "k1", amount="11")
    assert reused.status_code == 409
    assert len(client.get("/v1/charges").json()["data"]) == 1


def test_a_declined_card_is_402_every_time_and_takes_nothing(client):
    assert charge(client, "k1", token="tok_decline").status_code == 402
    assert charge(client, "k1", token="tok_decline").status_code == 402
    unknown = charge(client, "k2", token="tok_nope")
    assert unknown.status_code == 402
    assert "tok_nope" in unknown.json()["error"]["message"]
    statuses = [c["status"] for c in client.get("/v1/charges").json()["data"]]
    assert statuses == ["failed", "failed"]


def test_a_flaky_card_fails_twice_per_key_then_succeeds(client):
    assert [charge(client, "k1", token="tok_flaky").status_code for _ in range(4)] == [
        503,
        503,
        201,
        200,
    ]
    assert charge(client, "k2", token="tok_flaky").status_code == 503  # its own count
    assert len(client.get("/v1/charges").json()["data"]) == 1


def test_an_async_charge_is_pending_and_a_refund_voids_it(client):
    pending = charge(client, "k1", token="tok_async").json()
    assert pending["status"] == "pending"

    voided = client.post(f"/v1/charges/{pending['id']}/refund").json()

    assert voided["status"] == "canceled"
    assert voided["refund"] is None  # no money had moved
    assert client.get("/v1/refunds").json()["data"] == []


def test_a_refund_is_made_once_however_often_it_is_asked_for(client):
    charge_id = charge(client, "k1").json()["id"]

    first = client.post(f"/v1/charges/{charge_id}/refund").json()
    again = client.post(f"/v1/charges/{charge_id}/refund").json()

    assert first["status"] == again["status"] == "refunded"
    assert first["refund"]["id"] == again["refund"]["id"]
    refunds = client.get("/v1/refunds").json()["data"]
    assert [(r["charge_id"], r["amount"]) for r in refunds] == [(charge_id, "12.50")]
    assert client.post("/v1/charges/ch_nope/refund").status_code == 404


def test_a_shipment_is_booked_once_per_key_and_can_be_cancelled(client):
    first = client.post("/v1/shipments", headers={"Idempotency-Key": "s1"}).json()
    again = client.post("/v1/shipments", headers={"Idempotency-Key": "s1"}).json()
    assert first["tracking_number"] == again["tracking_number"]
    assert client.post("/v1/shipments").status_code == 400

    cancelled = client.post(f"/v1/shipments/{first['tracking_number']}/cancel").json()

    assert cancelled["status"] == "canceled"
    assert len(client.get("/v1/shipments").json()["data"]) == 1


def test_an_error_rate_of_one_refuses_every_write_and_records_nothing(tmp_path):
    client = make_client(tmp_path, error_rate=1)
    assert charge(client, "k1").status_code == 503
    assert client.get("/v1/charges").json()["data"] == []  # reads are not faulted


def test_a_lost_response_still_took_the_money_and_the_retry_finds_it(tmp_path):
    client = make_client(tmp_path, lose_rate=1, lose_hold=0)
    lost = charge(client, "k1")
    assert lost.status_code == 503
    assert "lost" in lost.json()["error"]["message"]

    client.post("/_admin/faults", json={"reset": True})
    retried = charge(client, "k1")

    assert retried.status_code == 200
    assert len(client.get("/v1/charges").json()["data"]) == 1


def test_latency_holds_the_answer_back(tmp_path):
    client = make_client(tmp_path, latency=0.3, endpoints=["charges"])
    started = time.monotonic()
    charge(client, "k1")
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    client.post("/v1/shipments", headers={"Idempotency-Key": "s1"})
    assert time.monotonic() - started < 0.3  # only charges are slowed


def test_faults_are_switched_at_run_time_and_checked(client):
    assert client.get("/_admin/faults").json()["error_rate"] == 0
    changed = client.post("/_admin/faults", json={"error_rate": 0.5, "endpoints": "refunds"})
    assert changed.json()["error_rate"] == 0.5
    assert changed.json()["endpoints"] == ["refunds"]
    for body, word in (
        ({"error_rate": 2}, "error_rate"),
        ({"latency": "soon"}, "latency"),
        ({"endpoints": ["ships"]}, "endpoints"),
        ({"typo": 1}, "typo"),
    ):
        refused = client.post("/_admin/faults", json=body)
        assert refused.status_code == 400
        assert word in refused.json()["error"]["message"]
    assert client.get("/_admin/faults").json()["error_rate"] == 0.5  # all or nothing
    assert client.post("/_admin/faults", json={"reset": True}).json()["endpoints"] == []


def test_faults_start_from_the_environment():
    faults = sandbox_faults.from_env({"SANDBOX_ERROR_RATE": "0.25", "SANDBOX_LOSE_RATE": "0.1"})
    assert (faults.error_rate, faults.lose_rate, faults.latency) == (0.25, 0.1, 0.0)
    with pytest.raises(sandbox_faults.FaultError):
        sandbox_faults.from_env({"SANDBOX_ERROR_RATE": "lots"})


def test_the_callback_is_signed_as_the_app_verifies_it(settings):
    from orders import gateway
    from sandbox import callbacks
    from sandbox.config import from_env

    body = callbacks.body_for("ch_1", succeeded=True)
    secret = from_env({"DJANGO_SECRET_KEY": settings.SECRET_KEY}).webhook_secret
    assert secret == settings.PAYMENTS_WEBHOOK_SECRET
    assert gateway.signature_valid(body, callbacks.sign(secret, body))
    assert json.loads(body) == json.loads(gateway.callback_body(charge_id="ch_1", succeeded=True))
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert callbacks.sign(secret, body) == expected
