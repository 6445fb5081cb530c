"""Standard Webhooks signatures (chữ ký): `v1,` + base64 HMAC-SHA256 of "{id}.{timestamp}.{body}".

Signed here with the standard library; the tests verify with the `standardwebhooks` package
as an independent receiver would.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """`whsec_` + base64 of 24 random bytes (192 bits), the form Standard Webhooks libraries accept."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, *, message_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<signature>` for one secret."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets_in_use: list[str], *, message_id: str, timestamp: int, body: bytes) -> str:
    """`webhook-signature`: one signature per secret, space-separated, so a receiver mid-rotation accepts either."""
    return " ".join(sign(s, message_id=message_id, timestamp=timestamp, body=body) for s in secrets_in_use)


def headers(secrets_in_use: list[str], *, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets_in_use, message_id=message_id, timestamp=timestamp, body=body),
        "content-type": "application/json",
    }
