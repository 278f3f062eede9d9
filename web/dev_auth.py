"""Dev only: session tokens for the demo users, so GraphiQL and the reference client work
without a Clerk account.

Active only when `Settings.serves_dev_tokens` holds: ENV=dev and no Clerk key configured
(the server then trusts the local dev issuer, see `services.tokens.DevIssuer`). Otherwise
`routes()` is empty, so `POST /dev/tokens` is a plain 404, and no token is ever minted.

- `POST /dev/tokens` with `{"userId": "user_demo_shopper"}` answers `{"token", "expiresAt",
  "user"}` for one of the seeded demo users (never for anyone else).
- `banner()` is what `shop serve` prints on start: the GraphiQL URL and ready tokens.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from core.errors import ErrorCode
from core.settings import Settings
from services.seed import DEMO_USERS
from services.tokens import DevIssuer

DEMO_SHOPPER = "user_demo_shopper"
DEMO_ADMIN = "user_demo_admin"
DEV_TOKEN_TTL = 3600


@dataclass(frozen=True, slots=True)
class DemoUser:
    clerk_id: str
    email: str
    name: str
    is_admin: bool


DEMO = {row[0]: DemoUser(*row) for row in DEMO_USERS}


@dataclass(frozen=True, slots=True)
class DevToken:
    token: str
    expires_at: int
    user: DemoUser


class DevTokens:
    """Signs tokens for the demo users with the dev issuer's key (loaded once)."""

    def __init__(self, settings: Settings, *, ttl: int = DEV_TOKEN_TTL) -> None:
        if not settings.serves_dev_tokens:
            raise RuntimeError("dev tokens exist only in ENV=dev without a Clerk key")
        self.issuer = DevIssuer.for_settings(settings)
        parties = settings.clerk_authorized_parties
        self.azp = parties[0] if parties else None
        self.ttl = ttl

    def issue(self, clerk_id: str, *, ttl: int | None = None) -> DevToken:
        user = DEMO[clerk_id]
        lifetime = self.ttl if ttl is None else ttl
        expires_at = int(time.time()) + lifetime
        token = self.issuer.issue(
            user.clerk_id,
            ttl=lifetime,
            admin=user.is_admin,
            email=user.email,
            name=user.name,
            azp=self.azp,
        )
        return DevToken(token=token, expires_at=expires_at, user=user)

    async def endpoint(self, request: Request) -> JSONResponse:
        if "application/json" not in request.headers.get("content-type", ""):
            return _error("Send application/json", ErrorCode.BAD_REQUEST, 415)
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _error("Malformed JSON", ErrorCode.BAD_REQUEST, 400)
        user_id = body.get("userId") if isinstance(body, dict) else None
        if user_id not in DEMO:
            known = ", ".join(DEMO)
            return _error(f"userId must be a demo user: {known}", ErrorCode.BAD_USER_INPUT, 400)
        issued = self.issue(user_id)
        return JSONResponse(
            {
                "token": issued.token,
                "expiresAt": issued.expires_at,
                "user": {
                    "id": issued.user.clerk_id,
                    "name": issued.user.name,
                    "isAdmin": issued.user.is_admin,
                },
            },
            headers={"Cache-Control": "no-store"},
        )


def _error(message: str, code: ErrorCode, status: int) -> JSONResponse:
    body = {"errors": [{"message": message, "extensions": {"code": str(code)}}]}
    return JSONResponse(body, status)


def dev_tokens_for(settings: Settings) -> DevTokens | None:
    return DevTokens(settings) if settings.serves_dev_tokens else None


def routes(dev_tokens: DevTokens | None) -> list[Route]:
    if dev_tokens is None:
        return []
    return [Route("/dev/tokens", dev_tokens.endpoint, methods=["POST"])]


def banner(settings: Settings, *, host: str, port: int) -> str | None:
    """The start-up message of `shop serve` in dev: where GraphiQL is and ready tokens."""
    if not settings.serves_dev_tokens:
        return None
    tokens = DevTokens(settings, ttl=8 * 3600)
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104
    if ":" in shown_host:
        shown_host = f"[{shown_host}]"
    shopper = tokens.issue(DEMO_SHOPPER).token
    admin = tokens.issue(DEMO_ADMIN).token
    url = f"http://{shown_host}:{port}/graphql"
    where = (
        f"GraphiQL: {url}  (ENV=dev: its Headers tab already holds a demo shopper token)"
        if settings.graphiql_enabled
        else f"GraphQL: {url}"
    )
    return (
        f"\n{where}\n"
        'Tokens for the Headers tab, {"Authorization": "Bearer <token>"}, valid 8 h:\n'
        f"  demo shopper: {shopper}\n"
        f"  demo admin:   {admin}\n"
    )
