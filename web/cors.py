"""CORS for browser clients served from another origin (the reference client in dev, your
web app in production): only the origins in `Settings.cors_origins`, none by default in prod.

Tokens travel in the `Authorization` header, never in cross-site cookies, so credentials
are not allowed; websockets are not subject to CORS (the GraphQL view checks their
`Origin` against `Settings.websocket_origins`).
"""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from core.settings import Settings


def cors_middleware(settings: Settings) -> list[Middleware]:
    origins = settings.cors_origins
    if not origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["authorization", "content-type", "accept", "x-request-id"],
            expose_headers=["x-request-id"],
            max_age=600,
        )
    ]
