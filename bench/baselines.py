"""Baseline servers for the read benchmarks (bench/catalog.py), returning the same data as
shopgraph for the catalog page, an order and the cart.

(a) `handwritten`: Starlette + asyncpg building the response by hand, serialised by orjson.
(a') `handwritten_cached`: (a) behind shopgraph's own response cache (web/response_cache.py,
    same key, TTL and size as the server's defaults): the baseline for the cached figure.
(b) `graphql_core`: bare graphql-core `execute` of a parsed-once document over asyncpg
    resolvers (no Strawberry, no ORM, no DataLoaders, no auth, no extensions), orjson.

Neither verifies a token: the signed-in scenarios read the rows of the `BENCH_USER` Clerk
id directly (its database id is looked up once), which flatters both baselines.

Run one with `python -m uvicorn bench.baselines:handwritten --factory` (or `graphql_core`),
with `BENCH_DATABASE_URL` pointing at the benchmark database.
"""

from __future__ import annotations

import base64
import json
import os
from contextlib import asynccontextmanager
from decimal import Decimal

import asyncpg
import orjson
from graphql import build_schema, execute, parse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

BENCH_USER = "user_bench_shopper"
CENT = Decimal("0.01")
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


def _money(amount: Decimal, currency: str) -> dict:
    return {"amount": str(amount), "currency": currency}


ORDER_SQL = "SELECT id, status, total, currency FROM orders WHERE id = $1 AND user_id = $2"
ORDER_ITEMS_SQL = (
    "SELECT i.quantity, i.unit_price, i.currency, i.product_name, p.id AS product_id, "
    "p.name FROM order_items i JOIN products p ON p.id = i.product_id "
    "WHERE i.order_id = $1 ORDER BY i.id"
)
CART_SQL = (
    "SELECT c.quantity, p.id, p.name, p.brand, p.price, p.currency, p.inventory "
    "FROM cart_items c JOIN products p ON p.id = c.product_id WHERE c.user_id = $1 ORDER BY c.id"
)


def _order_id(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().split(":", 1)[1])


def _times(amount: Decimal, quantity: int) -> Decimal:
    return (amount * quantity).quantize(CENT)


def _order(row, items) -> dict:
    return {
        "id": base64.b64encode(f"Order:{row['id']}".encode()).decode(),
        "status": row["status"].upper(),
        "total": _money(row["total"], row["currency"]),
        "items": [
            {
                "quantity": i["quantity"],
                "productName": i["product_name"],
                "unitPrice": _money(i["unit_price"], i["currency"]),
                "lineTotal": _money(
                    (i["unit_price"] * i["quantity"]).quantize(CENT), i["currency"]
                ),
                "product": {"id": _global_id(i["product_id"]), "name": i["name"]},
            }
            for i in items
        ],
    }


def _cart(rows, currency: str = "USD") -> dict:
    lines = []
    subtotal = Decimal("0.00")
    for r in rows:
        total = (r["price"] * r["quantity"]).quantize(CENT)
        subtotal += total
        lines.append({
            "quantity": r["quantity"],
            "unitPrice": _money(r["price"], r["currency"]),
            "lineTotal": _money(total, r["currency"]),
            "product": {"id": _global_id(r["id"]), "name": r["name"], "brand": r["brand"],
                        "inStock": r["inventory"] > 0},
        })  # fmt: skip
    return {
        "itemCount": sum(r["quantity"] for r in rows),
        "subtotal": _money(subtotal.quantize(CENT), currency),
        "lines": lines,
    }


async def _bench_user_id(app) -> int:
    if getattr(app.state, "user_id", None) is None:
        app.state.user_id = await app.state.pool.fetchval(
            "SELECT id FROM users WHERE clerk_id = $1", os.environ.get("BENCH_USER", BENCH_USER)
        )
    return app.state.user_id


async def _handwritten_endpoint(request: Request) -> Response:
    payload = orjson.loads(await request.body())
    query, variables = payload["query"], payload.get("variables") or {}
    pool = request.app.state.pool
    if query.startswith("query Order"):
        user_id = await _bench_user_id(request.app)
        async with pool.acquire() as conn:
            row = await conn.fetchrow(ORDER_SQL, _order_id(variables["id"]), user_id)
            items = await conn.fetch(ORDER_ITEMS_SQL, row["id"])
        body = {"data": {"order": _order(row, items)}}
    elif query.startswith("query Cart"):
        user_id = await _bench_user_id(request.app)
        body = {"data": {"cart": _cart(await pool.fetch(CART_SQL, user_id))}}
    else:
        first = int(variables["first"])
        rows = await pool.fetch(SQL, first + 1)
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
    return Response(orjson.dumps(body), media_type="application/json")


def handwritten() -> Starlette:
    app = Starlette(routes=[Route("/graphql", _handwritten_endpoint, methods=["POST"])])
    app.router.lifespan_context = _lifespan(app)
    return app


def handwritten_cached() -> Starlette:
    """(a) with the response cache shopgraph uses, so that a cached figure of ours has a
    cached baseline (a cache against no cache measures the cache, not the server)."""
    from core.settings import Settings
    from web.response_cache import ResponseCache

    defaults = Settings(env="test")
    cache = ResponseCache(
        ttl=defaults.response_cache_ttl,
        max_entries=defaults.response_cache_max_entries,
        max_age=defaults.http_cache_max_age,
    )

    async def endpoint(request: Request) -> Response:
        key = cache.key_for(request, await request.body())
        entry = cache.get(key)
        if entry is not None:
            return cache.respond(request, entry)
        generation = cache.generation()
        response = await _handwritten_endpoint(request)
        if response.status_code == 200:
            cache.put(key, response, generation)
        return response

    app = Starlette(routes=[Route("/graphql", endpoint, methods=["POST"])])
    app.router.lifespan_context = _lifespan(app)
    return app


SDL = """
type Query { products(first: Int!): ProductConnection! order(id: ID!): Order cart: Cart! }
type Order { id: ID! status: String! total: Money! items: [OrderLine!]! }
type OrderLine {
  quantity: Int! productName: String! unitPrice: Money! lineTotal: Money! product: Product
}
type Cart { itemCount: Int! subtotal: Money! lines: [CartLine!]! }
type CartLine { quantity: Int! unitPrice: Money! lineTotal: Money! product: Product! }
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

    async def resolve_order(_root, info, id: str):
        pool = info.context["pool"]
        user_id = await _bench_user_id(info.context["app"])
        async with pool.acquire() as conn:
            row = await conn.fetchrow(ORDER_SQL, _order_id(id), user_id)
            items = await conn.fetch(ORDER_ITEMS_SQL, row["id"])
        return _order(row, items)

    async def resolve_cart(_root, info):
        user_id = await _bench_user_id(info.context["app"])
        return _cart(await info.context["pool"].fetch(CART_SQL, user_id))

    schema.query_type.fields["products"].resolve = resolve_products
    schema.query_type.fields["order"].resolve = resolve_order
    schema.query_type.fields["cart"].resolve = resolve_cart
    documents: dict[str, object] = {}

    async def endpoint(request: Request) -> Response:
        payload = orjson.loads(await request.body())
        document = documents.get(payload["query"])
        if document is None:  # parsed once: the baseline measures execution only
            document = documents[payload["query"]] = parse(payload["query"])
        result = await execute(
            schema,
            document,
            variable_values=payload.get("variables"),
            context_value={"pool": request.app.state.pool, "app": request.app},
        )
        body = {"data": result.data}
        if result.errors:
            body["errors"] = [e.formatted for e in result.errors]
        return Response(orjson.dumps(body), media_type="application/json")

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
