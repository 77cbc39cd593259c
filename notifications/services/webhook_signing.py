"""Signing a webhook the Standard Webhooks way (standardwebhooks.com).

The signed content is ``{webhook-id}.{webhook-timestamp}.{body}``; the key is the secret's
base64 part after ``whsec_``, decoded; the signature header is ``v1,`` and the base64 of
its HMAC-SHA256. Receivers verify it with the spec's libraries.
"""

import base64
import hashlib
import hmac

from ..models.webhooks import SECRET_PREFIX

CONTENT_TYPE = "application/json"


def webhook_signature(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one request."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def webhook_headers(
    *, secret: str, msg_id: str, timestamp: int, body: bytes, user_agent: str
) -> dict[str, str]:
    """Every header of a webhook request."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": webhook_signature(
            secret=secret, msg_id=msg_id, timestamp=timestamp, body=body
        ),
        "content-type": CONTENT_TYPE,
        "user-agent": user_agent,
    }
