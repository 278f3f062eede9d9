"""Turning a request's credentials into a `Viewer`.

A token comes from `Authorization: Bearer ...` (scheme case-insensitive), the `__session`
cookie Clerk sets for same-site frontends, or, on websockets, the `connection_init` payload
(`{"authorization": "Bearer ..."}`). A bad token in a header or payload is refused (HTTP 401,
websocket close 4403). Over HTTP a bad `__session` cookie counts as signed out, because
browsers keep sending stale cookies to public pages; a websocket presenting one (with no
payload token to supersede it) is refused like any other bad credential.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import HTTPConnection

from core.settings import Settings
from services.auth import ANONYMOUS, Viewer
from services.tokens import InvalidToken, TokenVerifier
from services.users import viewer_for_claims

SESSION_COOKIE = "__session"


def bearer_token(value: str | None) -> str | None:
    """The token of an `Authorization` value; raises on a non-Bearer scheme."""
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("Authorization must be `Bearer <token>`")
    return token.strip()


class Authenticator:
    def __init__(self, settings: Settings, verifier: TokenVerifier | None = None) -> None:
        self.settings = settings
        self.verifier = verifier or TokenVerifier.from_settings(settings)

    async def viewer_for_token(self, token: str) -> Viewer:
        verified = await self.verifier.verify(token)
        return await viewer_for_claims(verified, self.settings)

    async def __call__(self, connection: HTTPConnection, *, lenient_cookie: bool = True) -> Viewer:
        header_token = bearer_token(connection.headers.get("authorization"))
        if header_token:
            return await self.viewer_for_token(header_token)
        cookie = connection.cookies.get(SESSION_COOKIE)
        if cookie:
            try:
                return await self.viewer_for_token(cookie)
            except InvalidToken:
                if not lenient_cookie:
                    raise
        return ANONYMOUS

    async def for_connection_params(self, params: Any) -> Viewer | None:
        """The viewer named by a websocket `connection_init` payload, if it names one."""
        if not isinstance(params, dict):
            return None
        value = params.get("authorization") or params.get("Authorization")
        if value is None:
            return None
        if not isinstance(value, str):
            raise InvalidToken("authorization must be a string")
        token = bearer_token(value) if " " in value.strip() else value.strip()
        return await self.viewer_for_token(token) if token else None
