"""Tokens and identities for tests, signed by the app's own dev issuer."""

from __future__ import annotations

import base64
import functools
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from svix.webhooks import Webhook

CLIENT_ORIGIN = "http://localhost:5173"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"shopgraph-test-webhook-secret!!").decode()
LISTED_ADMIN = "user_listed_admin"


def sign(claims: dict[str, Any], key: Any, *, kid: str, alg: str = "RS256") -> str:
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


def claims_for(subject: str, issuer: str, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "sub": subject, "sid": "sess_test", "iss": issuer, "azp": CLIENT_ORIGIN,
        "iat": now, "nbf": now - 1, "exp": now + 600, **extra,
    }  # fmt: skip


@functools.cache
def other_private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def unsigned(claims: dict[str, Any]) -> str:
    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def hs256_with_key_as_secret(claims: dict[str, Any], public_pem: str, kid: str) -> str:
    """The classic key-confusion forgery: HMAC-SHA256 keyed with the RSA public key."""
    import hashlib
    import hmac

    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    signing_input = f"{part({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{part(claims)}"
    mac = hmac.new(public_pem.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + base64.urlsafe_b64encode(mac).decode().rstrip("=")


def signed(event: dict, *, msg_id: str | None = None, at: datetime | None = None, secret=None):
    """A Clerk (Svix) webhook body and the headers that sign it."""
    body = json.dumps(event)
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    at = at or datetime.now(UTC)
    signature = Webhook(secret or WEBHOOK_SECRET).sign(msg_id, at, body)
    headers = {
        "svix-id": msg_id,
        "svix-timestamp": str(int(at.timestamp())),
        "svix-signature": signature,
        "content-type": "application/json",
    }
    return body, headers
