"""The world suite over real HTTP: a live uvicorn server, the public GraphQL API only.

`http_policy(world)` starts `uvicorn app:create_app` on a scratch SQLite database and
returns a world-suite `Policy` whose every step is a GraphQL request a client could send:
an admin creates the catalog with `createProduct`; each shopper signs in with a token of
the dev issuer (the same verification path as Clerk tokens) and states preferences with
`updateMe`; a slate is `recommendations(first, context)`; reactions are
`recordInteraction(eventId)` (tick, cross, view), `addToCart`, `checkout` and `clearCart`.
Learning happens in the server's own loop, asynchronously, as in production.

Differences from the in-process adapter (`services/simulation.py`), all due to the API:
products created through `createProduct` start with popularity 0 and are all new (the API
cannot set either); reward windows close by the clock, so the server runs with a 2-second
window swept every second (simulated time is compressed: a 20k-slate run takes minutes).
"""

from __future__ import annotations

import contextlib
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from bandit.simulation.worlds.world import Outcome, Product, Reaction, Request, Shopper, World
from core.settings import Settings
from services.tokens import DevIssuer
from tests.support.live_server import live_server

INVENTORY = 1_000_000
TOKEN_TTL = 7 * 24 * 3600
CATALOG_SETTLE_SECONDS = 3.0  # the server's index rebuild is debounced by 2 s

SLATE = """query Slate($k: Int!, $context: RecommendationContextInput) {
  recommendations(first: $k, context: $context) { eventId items { product { id } } } }"""
REACT = """mutation React($input: RecordInteractionInput!) {
  recordInteraction(input: $input) { userErrors { code message } } }"""
ADD = """mutation Add($p: ID!) { addToCart(productId: $p) { userErrors { code message } } }"""
CHECKOUT = """mutation Buy($key: String!) {
  checkout(input: {idempotencyKey: $key}) { userErrors { code message } } }"""
CLEAR = """mutation { clearCart { userErrors { code message } } }"""
CREATE = """mutation Create($input: CreateProductInput!) {
  createProduct(input: $input) { product { id } userErrors { code message } } }"""
UPDATE_ME = """mutation Me($p: JSON) { updateMe(input: {preferences: $p}) {
  userErrors { code message } } }"""
FEEDBACK = {Reaction.TICK: "TICK", Reaction.CROSS: "CROSS", Reaction.VIEW: "VIEW"}


class GraphQLError(RuntimeError):
    """A request the simulated client sent was refused: the run is invalid."""


class HttpShop:
    """A world-suite `Policy` answered by a live server over HTTP."""

    name = "service"

    def __init__(self, world: World) -> None:
        self._stack = contextlib.ExitStack()
        shm = Path("/dev/shm")
        scratch = self._stack.enter_context(
            tempfile.TemporaryDirectory(prefix="shopgraph-http-", dir=shm if shm.is_dir() else None)
        )
        env = {
            "DATA_DIR": scratch,
            "REWARD_WINDOW_SECONDS": "2",
            "REWARD_WINDOW_SWEEP_SECONDS": "1",
        }
        try:
            self._issuer = DevIssuer.for_settings(Settings(env="test", data_dir=Path(scratch)))
            self.base = self._stack.enter_context(live_server(env, startup_timeout=120.0))
            self._client = self._stack.enter_context(httpx.Client(timeout=30.0))
            self._admin = self._token("sim-admin", admin=True)
            self._tokens: dict[str, str] = {}
            for shopper in world.shoppers:
                self._sign_in(shopper)
        except BaseException:
            self._stack.close()
            raise
        self._gid: dict[str, str] = {}
        self._world_id: dict[str, str] = {}
        self._events: dict[int, str] = {}

    # -- Policy --------------------------------------------------------------------------
    def arrive(self, products: Sequence[Product]) -> None:
        for p in products:
            data = self._post(
                self._admin,
                CREATE,
                {
                    "input": {
                        "name": p.name,
                        "price": f"{p.price:.2f}",
                        "category": p.category,
                        "brand": p.brand,
                        "features": dict(p.features),
                        "inventory": INVENTORY,
                    }
                },
            )["createProduct"]
            self._check(data, "createProduct")
            gid = data["product"]["id"]
            self._gid[p.id] = gid
            self._world_id[gid] = p.id
        time.sleep(CATALOG_SETTLE_SECONDS)

    def recommend(self, request: Request) -> list[str]:
        context: dict[str, Any] = {"page": request.page, "device": request.device}
        if request.viewed:
            context["productId"] = self._gid[request.viewed]
        if not request.shopper.signed_in:
            context["sessionId"] = request.shopper.key
        data = self._post(
            self._token_of(request.shopper), SLATE, {"k": request.k, "context": context}
        )["recommendations"]
        self._events[request.index] = data["eventId"]
        return [self._world_id[item["product"]["id"]] for item in data["items"]]

    def feedback(self, request: Request, shown: Sequence[str], outcome: Outcome) -> None:
        event_id = self._events.pop(request.index)
        token = self._token_of(request.shopper)
        carted = False
        for product, reaction in zip(shown, outcome.reactions, strict=True):
            if reaction in FEEDBACK:
                payload: dict[str, Any] = {
                    "productId": self._gid[product],
                    "action": FEEDBACK[reaction],
                    "eventId": event_id,
                }
                if not request.shopper.signed_in:
                    payload["sessionId"] = request.shopper.key
                self._check(self._post(token, REACT, {"input": payload})["recordInteraction"])
            elif reaction is Reaction.CART_ADD and request.shopper.signed_in:
                carted = True
                self._check(self._post(token, ADD, {"p": self._gid[product]})["addToCart"])
        if carted and outcome.checkout:
            self._check(self._post(token, CHECKOUT, {"key": uuid.uuid4().hex})["checkout"])
        elif carted:
            self._check(self._post(token, CLEAR, {})["clearCart"])

    def close(self) -> None:
        self._stack.close()

    # -- HTTP ----------------------------------------------------------------------------
    def _token(self, subject: str, *, admin: bool = False) -> str:
        return self._issuer.issue(subject, ttl=TOKEN_TTL, admin=admin)

    def _sign_in(self, shopper: Shopper) -> None:
        token = self._token(f"sim-{shopper.key}")
        self._tokens[shopper.key] = token
        if shopper.preferences:
            data = self._post(token, UPDATE_ME, {"p": dict(shopper.preferences)})["updateMe"]
            self._check(data, "updateMe")

    def _token_of(self, shopper: Shopper) -> str | None:
        return self._tokens[shopper.key] if shopper.signed_in else None

    def _post(self, token: str | None, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self._client.post(
            f"{self.base}/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        body = response.json()
        if response.status_code != 200 or body.get("errors"):
            raise GraphQLError(f"{response.status_code}: {body.get('errors') or body}")
        return body["data"]

    @staticmethod
    def _check(payload: dict[str, Any], what: str = "mutation") -> None:
        if payload.get("userErrors"):
            raise GraphQLError(f"{what}: {payload['userErrors']}")


def http_policy(world: World) -> HttpShop:
    return HttpShop(world)
