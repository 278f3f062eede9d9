"""A day in the shop, for Locust: anonymous shoppers browse, search, filter (facets) and open
product pages with their neighbours; signed-in shoppers open the home page (`me`, cart,
recommendations), tick and cross what they are shown, add to cart, check out and watch
their order's status over a websocket; an admin changes stock now and then.

Every request is a persisted document id (the server is in prod mode, OPERATIONS=trusted;
bench/loadtest/documents.py). Signed-in shoppers use tokens from LOADTEST_TOKENS (a JSON
file: {"shoppers": [...], "admin": "..."}) that the server's CLERK_JWT_KEY verifies.

A response with GraphQL `errors` or `userErrors` is a failure, named by its code (stock
refusals such as OUT_OF_STOCK are told apart in the report by that code).

Run by `make loadtest` (bench/loadtest/run.py), or by hand:
    LOADTEST_TOKENS=tokens.json .venv/bin/locust -f bench/loadtest/locustfile.py \\
        --host http://127.0.0.1:8000 --headless -u 200 -r 50 -t 60s --processes 2
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
import uuid
from pathlib import Path

import websocket
from locust import FastHttpUser, between, events, task

from bench.loadtest.documents import IDS

WORDS = ("sneaker", "lamp", "chair", "jacket", "watch", "bag", "desk", "bottle", "shirt", "sofa")
CATEGORIES = ("Sneakers", "Furniture", "Lighting", "Outerwear", "Accessories", "Home")
PRODUCTS: list[str] = []  # global ids seen in catalog pages, shared by the users of a process
SIGNED_IN = itertools.count()  # signed-in users started in this process


def _tokens() -> dict:
    return json.loads(Path(os.environ["LOADTEST_TOKENS"]).read_text())


class Shopper(FastHttpUser):
    abstract = True
    # A person, not a loop: think time between pages (and so within the prod rate limits).
    wait_time = between(1, 3)
    token: str | None = None
    # Each shopper comes from an address of its own, as through a proxy (the runner sets
    # FORWARDED_ALLOW_IPS to the load generator): per-IP limits hold per shopper.
    address = ""

    def on_start(self) -> None:
        self.address = (
            f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
        )

    def gql(self, operation: str, variables: dict | None = None, *, label: str | None = None):
        """POST a persisted document; returns `data`, or None after recording a failure."""
        headers = {"content-type": "application/json", "x-forwarded-for": self.address}
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        body = json.dumps({"documentId": IDS[operation], "variables": variables or {}})
        with self.client.post("/graphql", data=body, headers=headers, name=label or operation,
                              catch_response=True) as response:  # fmt: skip
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}: {response.text[:120]}")
                return None
            answer = response.json()
            if answer.get("errors"):
                codes = {e.get("extensions", {}).get("code", "?") for e in answer["errors"]}
                response.failure(f"errors: {','.join(sorted(codes))}")
                return None
            data = answer.get("data") or {}
            for payload in data.values():
                if isinstance(payload, dict) and payload.get("userErrors"):
                    response.failure(f"userErrors: {payload['userErrors'][0]['code']}")
                    return None
            return data

    def catalog(self, label: str, filter_: dict | None = None) -> None:
        data = self.gql("Catalog", {"first": 20, "filter": filter_}, label=label)
        if data:
            ids = [e["node"]["id"] for e in data["products"]["edges"]]
            if len(PRODUCTS) < 2000:
                PRODUCTS.extend(ids)

    def product_id(self) -> str | None:
        if not PRODUCTS:
            self.catalog("Catalog: browse")
        return random.choice(PRODUCTS) if PRODUCTS else None

    def product_page(self, context: dict) -> dict | None:
        """The product and its neighbours (recommendations around it); returns the slate."""
        product = self.product_id()
        if product is None:
            return None
        self.gql("ProductPage", {"id": product})
        data = self.gql("Recommendations", {
            "first": 10, "context": {**context, "page": "product", "productId": product},
        }, label="Recommendations: product page")  # fmt: skip
        return data["recommendations"] if data else None


class AnonymousShopper(Shopper):
    weight = 3

    def on_start(self) -> None:
        super().on_start()
        self.session = uuid.uuid4().hex

    @task(4)
    def browse(self) -> None:
        self.catalog("Catalog: browse")

    @task(2)
    def search(self) -> None:
        self.catalog("Catalog: search", {"search": random.choice(WORDS)})

    @task(2)
    def facets(self) -> None:
        self.catalog("Catalog: category facet", {"category": [random.choice(CATEGORIES)]})

    @task(3)
    def product(self) -> None:
        self.product_page({"sessionId": self.session, "device": "mobile"})


class SignedInShopper(Shopper):
    weight = 2
    wait_time = between(2, 5)
    order_watch_share = 0.5  # of orders whose status the shopper watches (and cancels)

    def on_start(self) -> None:
        super().on_start()
        # A shopper of its own for every user (a shared cart would refuse checkouts): the
        # n-th user of Locust process w takes token n * processes + w.
        processes = int(os.environ.get("LOADTEST_PROCESSES", "1"))
        worker = getattr(self.environment.runner, "worker_index", 0)
        shoppers = _tokens()["shoppers"]
        self.token = shoppers[(next(SIGNED_IN) * processes + worker) % len(shoppers)]
        self.carted = 0

    @task(4)
    def home(self) -> None:
        self.gql("Me")
        self.gql("Cart")
        data = self.gql("Recommendations", {"first": 10, "context": {"page": "home"}},
                        label="Recommendations: home")  # fmt: skip
        if not data:
            return
        slate = data["recommendations"]
        for item in random.sample(slate["items"], k=min(2, len(slate["items"]))):
            action = random.choice(("TICK", "CROSS"))
            self.gql("RecordInteraction", {"input": {
                "productId": item["product"]["id"], "action": action,
                "eventId": slate["eventId"],
            }}, label=f"RecordInteraction: {action.lower()}")  # fmt: skip

    @task(3)
    def product_and_add_to_cart(self) -> None:
        slate = self.product_page({"device": "desktop"})
        if slate and slate["items"] and random.random() < 0.6:
            pick = random.choice(slate["items"])
            # The cart add is credited to the slate it came from.
            if self.gql("AddToCart", {"productId": pick["product"]["id"], "quantity": 1}):
                self.carted += 1

    @task(1)
    def checkout(self) -> None:
        if not self.carted:
            return
        data = self.gql("Checkout", {"input": {"idempotencyKey": uuid.uuid4().hex}})
        self.carted = 0
        if data and data["checkout"]["order"] and random.random() < self.order_watch_share:
            self.watch_order(data["checkout"]["order"]["id"])

    def watch_order(self, order_id: str) -> None:
        """Subscribe to the shopper's order status over a websocket, cancel the order, and
        time how long the status change takes to arrive (one Locust request, type WS)."""
        url = self.host.replace("http", "ws", 1) + "/graphql"
        started = time.perf_counter()
        name = "OrderStatusChanged: cancel -> event"
        try:
            ws = websocket.create_connection(
                url,
                subprotocols=["graphql-transport-ws"],
                suppress_origin=True,
                timeout=30,
                header=[f"X-Forwarded-For: {self.address}"],
            )
            try:
                init = {"authorization": f"Bearer {self.token}"}
                ws.send(json.dumps({"type": "connection_init", "payload": init}))
                if json.loads(ws.recv()).get("type") != "connection_ack":
                    raise RuntimeError("no connection_ack")
                ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
                    "documentId": IDS["OrderStatusChanged"], "variables": {}}}))  # fmt: skip
                # Messages are handled in order: the pong says the subscribe was taken in.
                ws.send('{"type":"ping"}')
                while json.loads(ws.recv()).get("type") != "pong":
                    pass
                if not self.gql("CancelOrder", {"id": order_id}):
                    return
                sent = time.perf_counter()
                while True:
                    message = json.loads(ws.recv())
                    if message.get("type") == "next":
                        order = message["payload"]["data"]["orderStatusChanged"]
                        if order["id"] == order_id and order["status"] == "CANCELLED":
                            break
                    elif message.get("type") in ("error", "complete"):
                        raise RuntimeError(f"subscription ended: {message}")
            finally:
                ws.close()
            events.request.fire(request_type="WS", name=name,
                                response_time=(time.perf_counter() - sent) * 1000,
                                response_length=0, exception=None, context={})  # fmt: skip
        except Exception as exc:
            events.request.fire(request_type="WS", name=name,
                                response_time=(time.perf_counter() - started) * 1000,
                                response_length=0, exception=exc, context={})  # fmt: skip


class Admin(Shopper):
    fixed_count = 1
    wait_time = between(2, 5)

    def on_start(self) -> None:
        super().on_start()
        self.token = _tokens()["admin"]

    @task
    def restock(self) -> None:
        product = self.product_id()
        if product:
            self.gql("AdjustInventory", {"productId": product, "delta": random.randint(5, 50)})
