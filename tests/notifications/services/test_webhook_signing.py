"""Signing: what the project signs, the standardwebhooks package from PyPI verifies."""

import base64
import json

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from notifications.models.webhooks import new_webhook_secret
from notifications.services.webhook_signing import webhook_headers, webhook_signature

BODY = json.dumps({"id": "2c4d", "type": "order.placed", "payload": {"order_id": 7}}).encode()


def headers_for(secret: str, body: bytes = BODY, timestamp: int | None = None) -> dict[str, str]:
    import time

    return webhook_headers(
        secret=secret,
        msg_id="2c4d",
        timestamp=timestamp or int(time.time()),
        body=body,
        user_agent="tests",
    )


def test_a_secret_is_whsec_and_the_base64_of_24_random_bytes():
    first, second = new_webhook_secret(), new_webhook_secret()

    assert first.startswith("whsec_")
    assert len(base64.b64decode(first.removeprefix("whsec_"), validate=True)) == 24
    assert first != second


def test_the_spec_library_verifies_a_signed_request_and_reads_its_body():
    secret = new_webhook_secret()
    headers = headers_for(secret)

    assert Webhook(secret).verify(BODY, headers) == json.loads(BODY)
    assert headers["webhook-id"] == "2c4d"
    assert headers["webhook-signature"].startswith("v1,")
    assert headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda body, headers, secret: (body + b" ", headers, secret),
        lambda body, headers, secret: (body, {**headers, "webhook-id": "other"}, secret),
        lambda body, headers, secret: (body, headers, new_webhook_secret()),
    ],
    ids=["body changed", "id changed", "other secret"],
)
def test_the_spec_library_rejects_a_tampered_request(tamper):
    secret = new_webhook_secret()
    body, headers, verify_with = tamper(BODY, headers_for(secret), secret)

    with pytest.raises(WebhookVerificationError):
        Webhook(verify_with).verify(body, headers)


def test_the_signature_matches_the_spec_librarys_own_for_the_same_message():
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    ours = webhook_signature(
        secret=secret, msg_id="msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp=1614265330, body=body
    )

    from datetime import UTC, datetime

    theirs = Webhook(secret).sign(
        "msg_p5jXN8AQM9LWM0D4loKWxJek", datetime.fromtimestamp(1614265330, tz=UTC), body.decode()
    )
    assert ours == theirs == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
