"""Turning a request's credentials into a `Viewer`.

A token comes from `Authorization: Bearer ...` (scheme case-insensitive), the `__session`
cookie Clerk sets for same-site frontends, or, on websockets, the `connection_init` payload
(`{"authorization": "Bearer ..."}`). A bad token in a header or payload is refused (HTTP 401,
websocket close 4403). Over HTTP a bad `__session` cookie counts as signed out, because
browsers keep sending stale cookies to public pages; a websocket presenting one (with no
payload token to supersede it) is refused like any other bad credential.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

from starlette.requests import HTTPConnection

from core.settings import Settings
from services import users
from services.auth import ANONYMOUS, Viewer
from services.tokens import InvalidToken, TokenVerifier

SESSION_COOKIE = "__session"


def bearer_token(value: str | None) -> str | None:
    """The token of an `Authorization` value; raises on a non-Bearer scheme."""
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("Authorization must be `Bearer <token>`")
    return token.strip()


class ViewerCache:
    """Recently verified tokens and their viewers, so a busy client does not cost an RSA
    verification and a user lookup per request.

    An entry lives at most `ttl` seconds and never past its token's expiry. Changes to an
    account made by this process (profile updates, Clerk webhooks) drop its entries at
    once; other processes see them within `ttl` — including a deletion, so `AUTH_CACHE_SECONDS`
    bounds how long a deleted account's unexpired token keeps working elsewhere.
    """

    def __init__(self, *, ttl: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[Viewer, float]] = OrderedDict()

    def get(self, token: str) -> Viewer | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        viewer, valid_until = entry
        if time.time() >= valid_until:
            del self._entries[token]
            return None
        return viewer

    def put(self, token: str, viewer: Viewer) -> None:
        if self.ttl <= 0:
            return
        valid_until = time.time() + self.ttl
        if viewer.expires_at is not None:
            valid_until = min(valid_until, viewer.expires_at.timestamp())
        self._entries[token] = (viewer, valid_until)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def forget_user(self, user_id: int) -> None:
        for token in [t for t, (v, _) in self._entries.items() if v.user_id == user_id]:
            del self._entries[token]


class Authenticator:
    def __init__(self, settings: Settings, verifier: TokenVerifier | None = None) -> None:
        self.settings = settings
        self.verifier = verifier or TokenVerifier.from_settings(settings)
        self.cache = ViewerCache(ttl=settings.auth_cache_seconds)
        users.on_account_changed(self.cache.forget_user)

    async def viewer_for_token(self, token: str) -> Viewer:
        cached = self.cache.get(token)
        if cached is not None:
            return cached
        verified = await self.verifier.verify(token)
        viewer = await users.viewer_for_claims(verified, self.settings)
        self.cache.put(token, viewer)
        return viewer

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
