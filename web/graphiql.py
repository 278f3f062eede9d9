"""GraphiQL at `GET /graphql`, with its assets served by this app so it works offline.

Strawberry's own page loads React and GraphiQL from unpkg.com, which fails on air-gapped
machines and in CI. This page loads the same kind of assets from `/graphiql/static/...`:
GraphiQL, React and React DOM at pinned versions, vendored into `web/static/graphiql/` by
`scripts/vendor_graphiql.py` (its `manifest.json` lists them with their SRI hashes).
`GRAPHIQL_ASSETS=cdn` loads the very same files from jsDelivr instead, guarded by subresource
integrity. The page runs no inline script and sends a Content-Security-Policy that only
allows those origins, so an asset fetched from anywhere else would fail loudly.

In ENV=dev (`Settings.serves_dev_tokens`) the Headers tab starts with a fresh demo shopper
token, so signed-in operations and subscriptions work at once. A "Persisted documents" panel
lists the trusted documents this server runs by id (web/persisted_documents.py).
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from functools import cached_property
from html import escape
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from core.settings import Settings
from schema.documents import DocumentRegistry
from web.dev_auth import DEMO_SHOPPER, DevTokens

STATIC_DIR = Path(__file__).parent / "static"
VENDOR_DIR = STATIC_DIR / "graphiql"
EXAMPLES_FILE = Path(__file__).parent / "graphiql_examples.graphql"
STATIC_PREFIX = "/graphiql/static"
CDN_BASE = "https://cdn.jsdelivr.net/npm"
CDN_ORIGIN = "https://cdn.jsdelivr.net"
# Product 2 of the demo catalog (in stock): a product id to try the examples with.
EXAMPLE_PRODUCT_ID = "UHJvZHVjdDoy"

MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
# A Host header fit to repeat in the policy (anything else gets no websocket source).
_HOST = re.compile(r"[A-Za-z0-9.-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?")
# Every asset URL carries a version or a content hash, so it can be cached for good.
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class StaticAsset:
    """A file served under STATIC_PREFIX at a URL that changes whenever its bytes do."""

    name: str  # the URL path below STATIC_PREFIX
    file: Path
    kind: str  # "script" or "stylesheet"
    integrity: str  # SRI hash of the bytes
    cdn_url: str | None = None  # the same bytes on the CDN (vendored assets only)

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.file.suffix]

    @cached_property
    def body(self) -> bytes:
        return self.file.read_bytes()

    @cached_property
    def gzipped(self) -> bytes:
        # mtime=0: the same bytes every time (stable ETags across processes).
        return gzip.compress(self.body, compresslevel=9, mtime=0)


def _sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def _own_asset(path: Path, kind: str) -> StaticAsset:
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()[:16]
    name = f"shopgraph/{path.stem}.{digest}{path.suffix}"
    return StaticAsset(name=name, file=path, kind=kind, integrity=_sri(data))


class GraphiQLAssets:
    """The vendored assets (from `manifest.json`) and the page's own script, by URL path."""

    def __init__(self, vendor_dir: Path = VENDOR_DIR) -> None:
        manifest = json.loads((vendor_dir / "manifest.json").read_text())
        self.vendored: list[StaticAsset] = []
        for entry in manifest["assets"]:
            folder = f"{entry['package']}@{entry['version']}"
            name = f"{folder}/{entry['path']}"
            self.vendored.append(
                StaticAsset(
                    name=name,
                    file=vendor_dir / folder / entry["path"],
                    kind=entry["kind"],
                    integrity=entry["integrity"],
                    cdn_url=f"{CDN_BASE}/{name}",
                )
            )
        self.init_script = _own_asset(STATIC_DIR / "graphiql-init.js", "script")
        self.by_name = {a.name: a for a in [*self.vendored, self.init_script]}

    async def serve(self, request: Request) -> Response:
        asset = self.by_name.get(request.path_params["path"])
        if asset is None:
            return Response("Not found", status_code=404, media_type="text/plain")
        gzipped = "gzip" in request.headers.get("accept-encoding", "")
        # One ETag per representation: the gzip-encoded bytes differ from the plain ones.
        etag = f'"{asset.integrity[7:27]}{"-gz" if gzipped else ""}"'
        headers = {"Cache-Control": IMMUTABLE, "ETag": etag, "Vary": "Accept-Encoding"}
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        if not gzipped:
            return Response(asset.body, media_type=asset.media_type, headers=headers)
        headers["Content-Encoding"] = "gzip"
        if "gzipped" in asset.__dict__:
            body = asset.gzipped
        else:  # compressing a megabyte takes a while: once per process, off the event loop
            body = await asyncio.to_thread(lambda: asset.gzipped)
        return Response(body, media_type=asset.media_type, headers=headers)

    def route(self) -> Route:
        return Route(STATIC_PREFIX + "/{path:path}", self.serve, methods=["GET", "HEAD"])


class GraphiQLPage:
    """The HTML page; one per app, rendered per request (a dev token is fresh each time)."""

    def __init__(
        self,
        settings: Settings,
        assets: GraphiQLAssets,
        dev_tokens: DevTokens | None = None,
        *,
        documents: DocumentRegistry | None = None,
    ) -> None:
        self.use_cdn = settings.graphiql_assets == "cdn"
        self.documents = documents
        self.assets = assets
        self.dev_tokens = dev_tokens
        self.examples = EXAMPLES_FILE.read_text()

    def routes(self) -> list[Route]:
        """The page itself is the GraphQL view's (GET /graphql); these serve its assets."""
        return [self.assets.route()]

    def _url(self, asset: StaticAsset) -> str:
        if self.use_cdn and asset.cdn_url:
            return asset.cdn_url
        return f"{STATIC_PREFIX}/{asset.name}"

    def _tag(self, asset: StaticAsset) -> str:
        url = escape(self._url(asset))
        integrity = escape(asset.integrity)
        cors = ' crossorigin="anonymous"' if self.use_cdn and asset.cdn_url else ""
        if asset.kind == "stylesheet":
            return f'<link rel="stylesheet" href="{url}" integrity="{integrity}"{cors}>'
        return f'<script defer src="{url}" integrity="{integrity}"{cors}></script>'

    def config(self) -> dict[str, Any]:
        """What graphiql-init.js reads: the example document, variables and headers."""
        headers = None
        if self.dev_tokens is not None:
            token = self.dev_tokens.issue(DEMO_SHOPPER).token
            headers = json.dumps({"Authorization": f"Bearer {token}"}, indent=2)
        variables = {
            "productId": EXAMPLE_PRODUCT_ID,
            "eventId": None,
            "idempotencyKey": str(uuid.uuid4()),
            "orderId": "paste an order id",
            "status": "CONFIRMED",
        }
        return {
            "defaultQuery": self.examples,
            "defaultVariables": json.dumps(variables, indent=2),
            "defaultHeaders": headers,
            "persistedDocuments": self.persisted_documents(),
        }

    def persisted_documents(self) -> list[dict[str, Any]]:
        """The trusted documents, for the page's "Persisted documents" panel."""
        if self.documents is None:
            return []
        documents = sorted(
            self.documents.trusted_documents(),
            key=lambda d: (d.source, [op.name or "" for op in d.operations]),
        )
        return [
            {
                "id": d.document_id,
                "source": d.source,
                "operations": [{"name": op.name, "type": op.type.value} for op in d.operations],
                "document": d.text,
            }
            for d in documents
        ]

    def content_security_policy(self, host: str | None) -> str:
        external = f" {CDN_ORIGIN}" if self.use_cdn else ""
        # The same-origin websocket, spelled out for browsers whose 'self' predates CSP 3.
        sockets = f" ws://{host} wss://{host}" if host and _HOST.fullmatch(host) else ""
        return "; ".join(
            (
                "default-src 'none'",
                f"script-src 'self'{external}",
                # GraphiQL's editors set inline styles; its fonts and icons are data: URIs.
                f"style-src 'self' 'unsafe-inline'{external}",
                "font-src 'self' data:",
                "img-src 'self' data:",
                f"connect-src 'self'{sockets}",
                "base-uri 'none'",
                "form-action 'none'",
                "frame-ancestors 'none'",
            )
        )

    def render(self, request: Request) -> HTMLResponse:
        # No `<` at all inside the <script> element (`</script>`, `<!--`): JSON's \u003c.
        config = json.dumps(self.config()).replace("<", "\\u003c")
        tags = [self._tag(a) for a in self.assets.vendored if a.kind == "stylesheet"]
        tags += [self._tag(a) for a in self.assets.vendored if a.kind == "script"]
        tags.append(self._tag(self.assets.init_script))
        html = PAGE.format(config=config, tags="\n    ".join(tags))
        return HTMLResponse(
            html,
            headers={
                # In dev the page carries a token: never store it in a cache.
                "Cache-Control": "no-store",
                "Content-Security-Policy": self.content_security_policy(
                    request.headers.get("host")
                ),
                "Referrer-Policy": "no-referrer",
                "X-Content-Type-Options": "nosniff",
            },
        )


PAGE = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>shopgraph · GraphiQL</title>
    <link rel="icon" href="data:,">
    <style>body {{ margin: 0; }} #graphiql {{ height: 100vh; }}</style>
    <script type="application/json" id="graphiql-config">{config}</script>
    {tags}
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL…</div>
  </body>
</html>
"""
