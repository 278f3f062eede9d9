"""Liveness and readiness probes."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from core import db


async def healthz(_request: Request) -> JSONResponse:
    """Alive: the process serves requests. Never touches dependencies."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """Ready: the database answers (and the event bus is connected when one is configured)."""
    checks = {"database": await db.ping()}
    hub = getattr(request.app.state, "hub", None)
    if hub is not None:
        checks["events"] = bool(hub.connected)
    ready = all(checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )
