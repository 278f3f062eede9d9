"""Baseline servers for the catalog benchmark, returning the same data as shopgraph.

(a) `handwritten`: Starlette + asyncpg building the response JSON by hand.
(b) `graphql_core`: bare graphql-core `execute` of a pre-parsed document over asyncpg
    resolvers (no Strawberry, no ORM, no DataLoaders, no auth, no extensions).

Run one with `python -m uvicorn bench.baselines:handwritten --factory` (or `graphql_core`),
with `BENCH_DATABASE_URL` pointing at the benchmark database.
"""

from __future__ import annotations

import base64
import json
import os
from contextlib import asynccontextmanager

import asyncpg
from graphql import build_schema, execute, parse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

COLUMNS = "id, name, price, currency, category, brand, image_url, inventory, ar_enabled, created_at"
SQL = f"SELECT {COLUMNS} FROM products WHERE is_active ORDER BY created_at DESC, id DESC LIMIT $1"


def _global_id(pk: int) -> str:
    return base64.b64encode(f"Product:{pk}".encode()).decode()


def _cursor(row) -> str:
    raw = json.dumps(["product", "newest:desc", row["created_at"].isoformat(), row["id"]],
                     separators=(",", ":"))  # fmt: skip
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _node(row) -> dict:
    return {
        "id": _global_id(row["id"]),
        "name": row["name"],
        "price": {"amount": str(row["price"]), "currency": row["currency"]},
        "category": row["category"],
        "brand": row["brand"],
        "imageUrl": row["image_url"],
        "inStock": row["inventory"] > 0,
        "inventory": row["inventory"],
        "arEnabled": row["ar_enabled"],
    }


def _lifespan(app: Starlette):
    @asynccontextmanager
    async def lifespan(_app):
        url = os.environ["BENCH_DATABASE_URL"].replace("postgres://", "postgresql://", 1)
        app.state.pool = await asyncpg.create_pool(url, min_size=10, max_size=10)
        yield
        await app.state.pool.close()

    return lifespan


def handwritten() -> Starlette:
    async def products(request: Request) -> Response:
        first = int(json.loads(await request.body())["variables"]["first"])
        rows = await request.app.state.pool.fetch(SQL, first + 1)
        page = rows[:first]
        body = {
            "data": {
                "products": {
                    "edges": [{"cursor": _cursor(r), "node": _node(r)} for r in page],
                    "pageInfo": {
                        "hasNextPage": len(rows) > first,
                        "endCursor": _cursor(page[-1]) if page else None,
                    },
                }
            }
        }
        return Response(json.dumps(body, separators=(",", ":")), media_type="application/json")

    app = Starlette(routes=[Route("/graphql", products, methods=["POST"])])
    app.router.lifespan_context = _lifespan(app)
    return app


SDL = """
type Query { products(first: Int!): ProductConnection! }
type ProductConnection { edges: [ProductEdge!]! pageInfo: PageInfo! }
type ProductEdge { cursor: String! node: Product! }
type PageInfo { hasNextPage: Boolean! endCursor: String }
type Money { amount: String! currency: String! }
type Product {
  id: ID! name: String! price: Money! category: String! brand: String! imageUrl: String
  inStock: Boolean! inventory: Int! arEnabled: Boolean!
}
"""


def graphql_core() -> Starlette:
    schema = build_schema(SDL)

    async def resolve_products(_root, info, first: int):
        rows = await info.context["pool"].fetch(SQL, first + 1)
        page = rows[:first]
        return {
            "edges": [{"cursor": _cursor(r), "node": _node(r)} for r in page],
            "pageInfo": {
                "hasNextPage": len(rows) > first,
                "endCursor": _cursor(page[-1]) if page else None,
            },
        }

    schema.query_type.fields["products"].resolve = resolve_products
    documents: dict[str, object] = {}

    async def endpoint(request: Request) -> Response:
        payload = json.loads(await request.body())
        document = documents.get(payload["query"])
        if document is None:  # parsed once: the baseline measures execution only
            document = documents[payload["query"]] = parse(payload["query"])
        result = await execute(
            schema,
            document,
            variable_values=payload.get("variables"),
            context_value={"pool": request.app.state.pool},
        )
        body = {"data": result.data}
        if result.errors:
            body["errors"] = [e.formatted for e in result.errors]
        return Response(json.dumps(body, separators=(",", ":")), media_type="application/json")

    app = Starlette(routes=[Route("/graphql", endpoint, methods=["POST"])])
    app.router.lifespan_context = _lifespan(app)
    return app


def bare_websockets() -> Starlette:
    """(c) The floor for fan-out: a Starlette websocket endpoint that sends the same
    pre-serialised message to every connected socket when `POST /publish` is called."""
    from starlette.websockets import WebSocket

    sockets: set[WebSocket] = set()

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept(subprotocol="graphql-transport-ws")
        await websocket.receive_text()  # connection_init
        await websocket.send_text('{"type":"connection_ack"}')
        await websocket.receive_text()  # subscribe
        sockets.add(websocket)
        try:
            while True:
                await websocket.receive_text()
        except Exception:
            pass
        finally:
            sockets.discard(websocket)

    async def publish(request: Request) -> Response:
        message = await request.body()
        text = message.decode()
        for websocket in list(sockets):
            try:
                await websocket.send_text(text)
            except Exception:
                continue
        return Response(str(len(sockets)))

    async def health(_request: Request) -> Response:
        return Response("ok")

    from starlette.routing import WebSocketRoute

    return Starlette(
        routes=[
            WebSocketRoute("/graphql", endpoint),
            Route("/publish", publish, methods=["POST"]),
            Route("/healthz", health),
        ]
    )
