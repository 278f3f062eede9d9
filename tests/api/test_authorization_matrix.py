"""Who may call what: every root operation in the schema, for four kinds of caller.

The object under test belongs to `user`; `other` is another signed-in shopper. Outcomes:
OK (data, no error), NULL (the field answers null: foreign objects look missing) or an
error code -- of the GraphQL error, or of the payload's first userError. A new query,
mutation or subscription without an entry here fails the first test.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from graphql import GraphQLObjectType

from models import ARSession, CartItem, ChatSession, Product
from schema import build_schema
from services.checkout import checkout
from services.recommendations.rewards import RewardTable
from services.seed import generate_products
from tests.support.graphql import global_id, gql, pk_of

ROLES = ("anonymous", "user", "other", "admin")
OK, NULL = "OK", "NULL"
SILENT = "SILENT"  # a subscription that stays open but delivers nothing of another's
UNAUTH, FORBIDDEN = "UNAUTHENTICATED", "FORBIDDEN"
PUBLIC = dict.fromkeys(ROLES, OK)
SIGNED_IN = {"anonymous": UNAUTH, "user": OK, "other": OK, "admin": OK}
ADMIN_ONLY = {"anonymous": UNAUTH, "user": FORBIDDEN, "other": FORBIDDEN, "admin": OK}
OWNER_OR_ADMIN = {"anonymous": NULL, "user": OK, "other": NULL, "admin": OK}


def owner_only(refusal: str) -> dict[str, str]:
    """A mutation on the owner's object: others (admins too) get `refusal` as a userError."""
    return {"anonymous": UNAUTH, "user": OK, "other": refusal, "admin": refusal}


@dataclass
class World:
    """Tokens for the four callers and ids of objects that belong to `user`."""

    tokens: dict[str, str | None]
    ids: dict[str, Any] = field(default_factory=dict)
    client: Any = None


Variables = Callable[[World], Awaitable[dict[str, Any]] | dict[str, Any]]


@dataclass
class Case:
    document: str
    expect: dict[str, str]
    variables: Variables | None = None
    # Subscriptions: makes the event happen once the subscription is open.
    trigger: Callable[[World], Awaitable[None]] | None = None


async def _user_ticks_a_recommendation(world: World) -> None:
    body = await gql(
        world.client,
        """mutation($p: ID!, $e: ID) { recordInteraction(input:
             {productId: $p, action: TICK, eventId: $e}) { userErrors { code } } }""",
        {"p": world.ids["slate_product"], "e": world.ids["slate_event"]},
        token=world.tokens["user"],
    )
    assert body["data"]["recordInteraction"]["userErrors"] == [], body


async def _admin_confirms_the_order(world: World) -> None:
    body = await gql(
        world.client,
        "mutation($id: ID!) { updateOrderStatus(id: $id, status: CONFIRMED) "
        "{ userErrors { code } } }",
        {"id": world.ids["order"]},
        token=world.tokens["admin"],
    )
    assert body["data"]["updateOrderStatus"]["userErrors"] == [], body


async def _user_posts_a_chat_message(world: World) -> None:
    body = await gql(
        world.client,
        'mutation($id: ID!) { postChatMessage(sessionId: $id, body: "Hi") '
        "{ userErrors { code } } }",
        {"id": world.ids["chat_session"]},
        token=world.tokens["user"],
    )
    assert body["data"]["postChatMessage"]["userErrors"] == [], body


async def _restock_first_product(world: World) -> None:
    from models import Product
    from services import events

    product = await Product.filter(is_active=True).order_by("id").first()
    await events.inventory_changed(product.id, product.inventory)


def _const(**values: Any) -> Variables:
    return lambda _world: values


MATRIX: dict[str, Case] = {
    "Query.products": Case("{ products(first: 1) { totalCount } }", PUBLIC),
    "Query.product": Case(
        "query($id: ID!) { product(id: $id) { id } }",
        PUBLIC,
        lambda w: {"id": w.ids["product"]},
    ),
    "Query.facets": Case("{ facets { totalCount } }", PUBLIC),
    "Query.node": Case(
        "query($id: ID!) { node(id: $id) { id } }",
        OWNER_OR_ADMIN,
        lambda w: {"id": w.ids["user"]},
    ),
    "Query.me": Case("{ me { id } }", {**dict.fromkeys(ROLES, OK), "anonymous": NULL}),
    "Query.users": Case("{ users(first: 1) { edges { node { id } } } }", ADMIN_ONLY),
    "Query.analytics": Case("{ analytics { interactionsByAction { count } } }", ADMIN_ONLY),
    "Query.recommendations": Case(
        '{ recommendations(first: 2, context: {sessionId: "s"}) { eventId } }', PUBLIC
    ),
    "Mutation.recordInteraction": Case(
        """mutation($p: ID!, $e: ID) {
             recordInteraction(input: {productId: $p, action: TICK, eventId: $e}) {
               interaction { id } userErrors { code } } }""",
        {
            "anonymous": "BAD_USER_INPUT",
            "user": OK,
            "other": "UNKNOWN_EVENT",
            "admin": "UNKNOWN_EVENT",
        },
        lambda w: {"p": w.ids["slate_product"], "e": w.ids["slate_event"]},
    ),
    "Mutation.updateMe": Case(
        'mutation { updateMe(input: {name: "New Name"}) { user { id } } }', SIGNED_IN
    ),
    "Subscription.interactionRecorded": Case(
        "subscription { interactionRecorded { action reward product { id } } }",
        {"anonymous": UNAUTH, "user": OK, "other": SILENT, "admin": OK},
        trigger=_user_ticks_a_recommendation,
    ),
    "Subscription.recommendationsUpdated": Case(
        "subscription { recommendationsUpdated(first: 3) { eventId items { probability } } }",
        {"anonymous": UNAUTH, "user": OK, "other": SILENT, "admin": SILENT},
        trigger=_user_ticks_a_recommendation,
    ),
    "Subscription.orderStatusChanged": Case(
        "subscription($id: ID) { orderStatusChanged(orderId: $id) { id status } }",
        {"anonymous": UNAUTH, "user": OK, "other": SILENT, "admin": OK},
        lambda w: {"id": w.ids["order"]},
        trigger=_admin_confirms_the_order,
    ),
    "Subscription.chatMessageAdded": Case(
        "subscription($id: ID!) { chatMessageAdded(sessionId: $id) { body role } }",
        {
            "anonymous": UNAUTH,
            "user": OK,
            "other": "SESSION_NOT_FOUND",
            "admin": "SESSION_NOT_FOUND",
        },
        lambda w: {"id": w.ids["chat_session"]},
        trigger=_user_posts_a_chat_message,
    ),
    "Subscription.inventoryChanged": Case(
        "subscription { inventoryChanged { productId inventory inStock } }",
        PUBLIC,
        trigger=_restock_first_product,
    ),
    # Cart: everyone has their own; `user`'s holds `cart_product`.
    "Query.cart": Case("{ cart { itemCount } }", SIGNED_IN),
    "Mutation.addToCart": Case(
        "mutation($p: ID!) { addToCart(productId: $p) { cart { itemCount } userErrors { code } } }",
        SIGNED_IN,
        lambda w: {"p": w.ids["product"]},
    ),
    "Mutation.updateCartItem": Case(
        "mutation($p: ID!) { updateCartItem(productId: $p, quantity: 2) "
        "{ cart { itemCount } userErrors { code } } }",
        owner_only("CART_ITEM_NOT_FOUND"),
        lambda w: {"p": w.ids["cart_product"]},
    ),
    "Mutation.removeFromCart": Case(
        "mutation($p: ID!) { removeFromCart(productId: $p) "
        "{ cart { itemCount } userErrors { code } } }",
        SIGNED_IN,
        lambda w: {"p": w.ids["cart_product"]},
    ),
    "Mutation.clearCart": Case(
        "mutation { clearCart { cart { itemCount } userErrors { code } } }", SIGNED_IN
    ),
    # Orders: `user` placed `order`.
    "Mutation.checkout": Case(
        'mutation { checkout(input: {idempotencyKey: "matrix-2"}) '
        "{ order { id } userErrors { code } } }",
        owner_only("CART_EMPTY"),
    ),
    "Query.orders": Case("{ orders(first: 5) { edges { node { id } } } }", SIGNED_IN),
    "Query.order": Case(
        "query($id: ID!) { order(id: $id) { id } }",
        OWNER_OR_ADMIN,
        lambda w: {"id": w.ids["order"]},
    ),
    "Mutation.cancelOrder": Case(
        "mutation($id: ID!) { cancelOrder(id: $id) { order { id } userErrors { code } } }",
        {**owner_only("ORDER_NOT_FOUND"), "admin": OK},
        lambda w: {"id": w.ids["order"]},
    ),
    "Mutation.updateOrderStatus": Case(
        "mutation($id: ID!) { updateOrderStatus(id: $id, status: CONFIRMED) "
        "{ order { id } userErrors { code } } }",
        ADMIN_ONLY,
        lambda w: {"id": w.ids["order"]},
    ),
    # Admin catalog management.
    "Mutation.createProduct": Case(
        'mutation { createProduct(input: {name: "N", price: "1.00", category: "C", brand: "B"}) '
        "{ product { id } userErrors { code } } }",
        ADMIN_ONLY,
    ),
    "Mutation.updateProduct": Case(
        'mutation($p: ID!) { updateProduct(id: $p, input: {name: "Renamed"}) '
        "{ product { id } userErrors { code } } }",
        ADMIN_ONLY,
        lambda w: {"p": w.ids["product"]},
    ),
    "Mutation.setInventory": Case(
        "mutation($p: ID!) { setInventory(productId: $p, inventory: 3) "
        "{ product { id } userErrors { code } } }",
        ADMIN_ONLY,
        lambda w: {"p": w.ids["product"]},
    ),
    "Mutation.adjustInventory": Case(
        "mutation($p: ID!) { adjustInventory(productId: $p, delta: 1) "
        "{ product { id } userErrors { code } } }",
        ADMIN_ONLY,
        lambda w: {"p": w.ids["product"]},
    ),
    "Mutation.deactivateProduct": Case(
        "mutation($p: ID!) { deactivateProduct(id: $p) { product { id } userErrors { code } } }",
        ADMIN_ONLY,
        lambda w: {"p": w.ids["product"]},
    ),
    # AR and chat sessions are private to their owner, admins included.
    "Mutation.startArSession": Case(
        "mutation($p: ID!) { startArSession(productId: $p) "
        "{ arSession { id } userErrors { code } } }",
        SIGNED_IN,
        lambda w: {"p": w.ids["ar_product"]},
    ),
    "Mutation.endArSession": Case(
        "mutation($id: ID!) { endArSession(id: $id) { arSession { id } userErrors { code } } }",
        owner_only("SESSION_NOT_FOUND"),
        lambda w: {"id": w.ids["ar_session"]},
    ),
    "Mutation.startChatSession": Case(
        "mutation { startChatSession { chatSession { id } userErrors { code } } }", SIGNED_IN
    ),
    "Mutation.postChatMessage": Case(
        'mutation($id: ID!) { postChatMessage(sessionId: $id, body: "Hello") '
        "{ message { id } userErrors { code } } }",
        owner_only("SESSION_NOT_FOUND"),
        lambda w: {"id": w.ids["chat_session"]},
    ),
    "Query.chatSessions": Case("{ chatSessions(first: 5) { edges { node { id } } } }", SIGNED_IN),
}


def schema_operations() -> set[str]:
    graphql_schema = build_schema()._schema
    names = set()
    for root in (
        graphql_schema.query_type,
        graphql_schema.mutation_type,
        graphql_schema.subscription_type,
    ):
        if isinstance(root, GraphQLObjectType):
            names |= {f"{root.name}.{name}" for name in root.fields}
    return names


def test_every_operation_has_an_authorization_entry():
    operations = schema_operations()
    missing = sorted(operations - MATRIX.keys())
    stale = sorted(MATRIX.keys() - operations)
    assert not missing, f"add authorization-matrix entries for {missing}"
    assert not stale, f"remove matrix entries for operations that no longer exist: {stale}"


@pytest.fixture
async def world(app, client, token_for) -> World:
    # A small catalog keeps the 200-odd cases fast; it has AR and in-stock products.
    await Product.bulk_create(generate_products(20, seed=7))
    catalog = await Product.all().order_by("id")
    await app.state.recommender.catalog.load()
    tokens = {
        "anonymous": None,
        "user": token_for("user_matrix_owner", email="owner@example.com"),
        "other": token_for("user_matrix_other", email="other@example.com"),
        "admin": token_for("user_matrix_admin", admin=True),
    }
    me = await gql(client, "{ me { id } }", token=tokens["user"])
    for role in ("other", "admin"):
        await gql(client, "{ me { id } }", token=tokens[role])
    product = await gql(client, "{ products(first: 1) { edges { node { id } } } }")
    owner = pk_of(me["data"]["me"]["id"])
    bought, carted = [p for p in catalog if p.is_active and p.inventory >= 5][:2]
    ar_product = next(p for p in catalog if p.is_active and p.ar_enabled)
    rewards = RewardTable()
    await CartItem.create(user_id=owner, product_id=bought.id, quantity=1)
    order = await checkout(user_id=owner, idempotency_key="matrix", rewards=rewards, currency="USD")
    await CartItem.create(user_id=owner, product_id=carted.id, quantity=1)
    ar_session = await ARSession.create(user_id=owner, product_id=ar_product.id)
    chat_session = await ChatSession.create(user_id=owner)
    slate = await gql(
        client,
        "{ recommendations(first: 3) { eventId items { product { id } } } }",
        token=tokens["user"],
    )
    slate = slate["data"]["recommendations"]
    return World(
        client=client,
        tokens=tokens,
        ids={
            "user": me["data"]["me"]["id"],
            "product": product["data"]["products"]["edges"][0]["node"]["id"],
            "slate_event": slate["eventId"],
            "slate_product": slate["items"][0]["product"]["id"],
            "cart_product": global_id("Product", carted.id),
            "ar_product": global_id("Product", ar_product.id),
            "order": global_id("Order", order.id),
            "ar_session": global_id("ArSession", ar_session.id),
            "chat_session": global_id("ChatSession", chat_session.id),
        },
    )


def _outcome(body: dict[str, Any], field_name: str) -> str:
    if body.get("errors"):
        return body["errors"][0].get("extensions", {}).get("code", "NO_CODE")
    value = body["data"][field_name]
    if isinstance(value, dict) and value.get("userErrors"):
        return value["userErrors"][0]["code"]
    return NULL if value is None else OK


def _live_subscribers() -> float:
    from prometheus_client import REGISTRY

    return sum(
        sample.value
        for metric in REGISTRY.collect()
        if metric.name == "shopgraph_live_subscribers"
        for sample in metric.samples
    )


async def _subscription_outcome(app, case: Case, world: World, role: str, variables) -> str:
    """Subscribe in-process as `role`, make the event happen, and see what arrives."""
    from schema.context import Context
    from services.auth import ANONYMOUS

    view = app.state.graphql_view
    token = world.tokens[role]
    viewer = await view.authenticator.viewer_for_token(token) if token else ANONYMOUS
    context = Context(
        request=None, response=None, settings=view.settings, request_id="matrix",
        rewards=view.rewards, recommender=view.recommender, viewer=viewer,
    )  # fmt: skip
    stream = await view.schema.subscribe(case.document, variables, context_value=context)
    if not hasattr(stream, "__anext__"):
        return _outcome({"errors": [e.formatted for e in stream.errors]}, "")
    live_before = _live_subscribers()
    first = asyncio.ensure_future(anext(stream))
    try:
        # Let the resolver subscribe before the event happens: wait until this process has
        # one more live bus subscriber (the gauge counts it once its subscription is up), or
        # the stream answered at once (a refusal).
        for _ in range(500):
            if first.done() or _live_subscribers() > live_before:
                break
            await asyncio.sleep(0.01)
        if first.done():
            result = first.result()
        else:
            await case.trigger(world)
            try:
                # Silence is only awaited briefly; an expected event gets time on a busy box.
                patience = 0.5 if case.expect[role] == SILENT else 5.0
                result = await asyncio.wait_for(asyncio.shield(first), timeout=patience)
            except TimeoutError:
                return SILENT
        if result.errors:
            return result.errors[0].extensions.get("code", "NO_CODE")
        return OK
    finally:
        first.cancel()
        with contextlib.suppress(BaseException):
            await first
        await stream.aclose()


@pytest.mark.parametrize("operation", sorted(MATRIX))
@pytest.mark.parametrize("role", ROLES)
async def test_authorization(app, client, world, operation, role):
    case = MATRIX[operation]
    variables = case.variables(world) if case.variables else {}
    if hasattr(variables, "__await__"):
        variables = await variables
    if operation.startswith("Subscription."):
        outcome = await _subscription_outcome(app, case, world, role, variables)
        assert outcome == case.expect[role]
        return
    body = await gql(client, case.document, variables, token=world.tokens[role])
    field_name = operation.split(".", 1)[1]
    assert _outcome(body, field_name) == case.expect[role], body
