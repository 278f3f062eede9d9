"""Apps with other settings than the session app, for limits and production behaviour."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization

from core.settings import Settings
from tests.support.auth import claims_for, other_private_key, sign

PROD_ISSUER = "https://clerk.shop.test"
PROD_KID = "prod-test-key"


@cache
def prod_public_pem() -> str:
    key = other_private_key().public_key()
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def prod_token(subject: str, **claims: Any) -> str:
    """A session token the prod-like app accepts (signed with the key it is configured with)."""
    return sign(claims_for(subject, PROD_ISSUER, **claims), other_private_key(), kid=PROD_KID)


def prod_overrides(**overrides: Any) -> dict[str, Any]:
    return {
        "env": "prod",
        "clerk_jwt_key": prod_public_pem(),
        "clerk_issuer": PROD_ISSUER,
        **overrides,
    }


@asynccontextmanager
async def client_for(
    settings: Settings, *, recommender: Any = None, **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A client for an app built from `settings` with `overrides`.

    The app's lifespan is not run: it shares the database the session app has set up (the
    ORM is process-wide), so ask for the `db` fixture when the operations touch it, and pass
    the session app's `recommender` (`app.state.recommender`) when they rank slates."""
    from app import create_app

    app = create_app(settings.model_copy(update=overrides), recommender=recommender)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        client.app = app  # type: ignore[attr-defined]  # for tests that look at its state
        yield client
