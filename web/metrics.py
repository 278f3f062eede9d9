"""`GET /metrics`: Prometheus text format, optionally behind a bearer token (METRICS_TOKEN).

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


def _registry() -> CollectorRegistry:
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
    if not _authorised(request, request.app.state.settings.metrics_token):
        return JSONResponse(
            error_body("A valid bearer token is required", ErrorCode.UNAUTHENTICATED),
            401,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    return Response(generate_latest(_registry()), media_type=CONTENT_TYPE_LATEST)
