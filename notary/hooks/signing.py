"""Webhook secrets and signatures, in the style of the Standard Webhooks specification.

A message is signed over `{webhook-id}.{webhook-timestamp}.{body}` with HMAC-SHA256, keyed
by the secret's bytes (the base64 text after `whsec_`); the signature header is
`v1,<base64 of the MAC>`. Receivers written for Standard Webhooks (its libraries, or
notary.client.verify_webhook, which shares no code with this module) check it as is.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Final

SECRET_PREFIX: Final = "whsec_"  # noqa: S105 (a prefix, not a secret)
SECRET_BYTES: Final = 32
"""256 bits of key."""
SIGNATURE_VERSION: Final = "v1"


def new_secret() -> str:
    """A fresh endpoint secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def key_of(secret: str) -> bytes:
    """The HMAC key of a secret (its base64 part decoded)."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value of one attempt to send `body`."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    mac = hmac.new(key_of(secret), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(mac).decode()}"


def headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The headers that identify and sign one attempt."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
    }
