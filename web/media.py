"""Placeholder media for the demo catalog, generated on the fly so the demo needs no CDN."""

from __future__ import annotations

import hashlib
from html import escape

from starlette.requests import Request
from starlette.responses import Response

_PALETTE = ("#264653", "#2a9d8f", "#e9c46a", "#f4a261", "#e76f51", "#6d597a", "#355070", "#b56576")


def _svg(slug: str, view: str) -> str:
    digest = hashlib.sha256(f"{slug}:{view}".encode()).digest()
    background = _PALETTE[digest[0] % len(_PALETTE)]
    accent = _PALETTE[digest[1] % len(_PALETTE)]
    radius = 80 + digest[2] % 120
    label = escape(f"#{slug} {view}".strip())
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="600" height="600" viewBox="0 0 600 600">'
        f'<rect width="600" height="600" fill="{background}"/>'
        f'<circle cx="300" cy="280" r="{radius}" fill="{accent}" opacity="0.85"/>'
        '<text x="300" y="560" font-family="sans-serif" font-size="32" fill="#fff" '
        f'text-anchor="middle">{label}</text></svg>'
    )


async def product_image(request: Request) -> Response:
    slug = request.path_params["slug"]
    if not slug.isdigit() or len(slug) > 10:
        return Response("Not found", status_code=404, media_type="text/plain")
    view = request.query_params.get("view", "")[:16]
    return Response(
        _svg(slug, view if view.isalpha() else ""),
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400, immutable"},
    )
