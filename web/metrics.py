"""`GET /metrics`: Prometheus text format, behind a bearer token (METRICS_TOKEN) or on a port
of its own (METRICS_PORT, started by `shop serve`); in prod one of the two is required and
/metrics is off on the API port otherwise (`Settings.metrics_on_api_port`).

With several worker processes (`shop serve --workers N`), set `PROMETHEUS_MULTIPROC_DIR` to
an empty directory: each worker then writes its metrics there and any worker answers a
scrape with the sum over all of them (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import hmac
import os

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from core.errors import ErrorCode
from web.graphql_view import error_body


def registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return registry
    return REGISTRY


def _authorised(request: Request, token: str | None) -> bool:
    if not token:
        return True
    scheme, _, supplied = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        supplied.strip().encode(), token.encode()
    )


async def metrics(request: Request) -> Response:
    settings = request.app.state.settings
    if not settings.metrics_on_api_port:
        return JSONResponse(error_body("Not found", ErrorCode.NOT_FOUND), 404)
    if not _authorised(request, settings.metrics_token):
        return JSONResponse(
            error_body("A valid bearer token is required", ErrorCode.UNAUTHENTICATED),
            401,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    return Response(generate_latest(registry()), media_type=CONTENT_TYPE_LATEST)
