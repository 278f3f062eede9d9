"""AR and chat sessions through GraphQL."""

from __future__ import annotations

import asyncio

from models import ChatMessage, Product, User, UserInteraction
from models.interaction import InteractionAction
from services import events
from tests.api.commerce import pid
from tests.support.graphql import count_queries, gql_data, pk_of, user_errors

START_AR = """
mutation($product: ID!, $meta: JSON) {
  startArSession(productId: $product, metadata: $meta) {
    arSession { id startedAt endedAt metadata product { id } } userErrors { field code }
  }
}"""
END_AR = """
mutation($id: ID!) {
  endArSession(id: $id) { arSession { id endedAt } userErrors { field code } }
}"""
START_CHAT = """
mutation($product: ID, $title: String) {
  startChatSession(productId: $product, title: $title) {
    chatSession { id title product { id } } userErrors { field code }
  }
}"""
POST = """
mutation($session: ID!, $body: String!) {
  postChatMessage(sessionId: $session, body: $body) {
    message { id role body createdAt } userErrors { field code }
  }
}"""
SESSIONS = """
query($first: Int, $after: String, $messages: Int!, $messagesAfter: String) {
  chatSessions(first: $first, after: $after) {
    edges { node { id title messages(first: $messages, after: $messagesAfter) {
      edges { cursor node { body role } } pageInfo { hasNextPage endCursor } } } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def test_ar_sessions_start_on_ar_products_only_and_end_once(client, catalog, alice, bob):
    ar_product = next(p for p in catalog if p.is_active and p.ar_enabled)
    flat = next(p for p in catalog if p.is_active and not p.ar_enabled)

    started = (await gql_data(
        client, START_AR, {"product": pid(ar_product), "meta": {"device": "iPhone"}}, token=alice
    ))["startArSession"]  # fmt: skip
    session = started["arSession"]
    assert session["endedAt"] is None and session["metadata"] == {"device": "iPhone"}
    assert session["product"]["id"] == pid(ar_product)
    user = await User.get(clerk_id="user_alice")
    views = await UserInteraction.filter(user_id=user.id, action=InteractionAction.AR_VIEW)
    assert [v.product_id for v in views] == [ar_product.id]

    refused = await gql_data(client, START_AR, {"product": pid(flat)}, token=alice)
    assert user_errors(refused["startArSession"]) == [("productId", "AR_NOT_SUPPORTED")]
    await Product.filter(id=ar_product.id).update(is_active=False)
    withdrawn = await gql_data(client, START_AR, {"product": pid(ar_product)}, token=alice)
    assert user_errors(withdrawn["startArSession"]) == [("productId", "PRODUCT_INACTIVE")]
    assert await UserInteraction.filter(action=InteractionAction.AR_VIEW).count() == 1

    foreign = (await gql_data(client, END_AR, {"id": session["id"]}, token=bob))["endArSession"]
    assert user_errors(foreign) == [("id", "SESSION_NOT_FOUND")]
    ended = (await gql_data(client, END_AR, {"id": session["id"]}, token=alice))["endArSession"]
    assert ended["arSession"]["endedAt"] is not None
    again = (await gql_data(client, END_AR, {"id": session["id"]}, token=alice))["endArSession"]
    assert again["arSession"]["endedAt"] == ended["arSession"]["endedAt"]


async def test_chat_sessions_hold_private_bounded_messages(client, catalog, alice, bob):
    product = catalog[0]
    started = await gql_data(client, START_CHAT, {"product": pid(product)}, token=alice)
    session = started["startChatSession"]["chatSession"]
    assert session["title"] == product.name and session["product"]["id"] == pid(product)

    hub = events.hub()
    assert hub is not None
    async with hub.subscribe(events.chat_channel(pk_of(session["id"]))) as channel:
        posted = (await gql_data(
            client, POST, {"session": session["id"], "body": "  Does it run small?  "}, token=alice
        ))["postChatMessage"]  # fmt: skip
        async with asyncio.timeout(2):
            event = (await anext(channel)).payload
    assert posted["message"]["body"] == "Does it run small?" and posted["message"]["role"] == "USER"
    assert event["body"] == "Does it run small?" and event["role"] == "user"

    for body, field in (("   ", "body"), ("x" * 2001, "body")):
        bad = await gql_data(client, POST, {"session": session["id"], "body": body}, token=alice)
        assert user_errors(bad["postChatMessage"]) == [(field, "BAD_USER_INPUT")]
    foreign = await gql_data(client, POST, {"session": session["id"], "body": "hi"}, token=bob)
    assert user_errors(foreign["postChatMessage"]) == [("sessionId", "SESSION_NOT_FOUND")]
    assert await ChatMessage.all().count() == 1
    theirs = await gql_data(client, SESSIONS, {"messages": 5}, token=bob)
    assert theirs["chatSessions"]["edges"] == []


async def test_sessions_list_by_latest_activity_and_messages_page(client, db, alice):
    ids = []
    for title in ("first", "second", "third"):
        data = await gql_data(client, START_CHAT, {"title": title}, token=alice)
        ids.append(data["startChatSession"]["chatSession"]["id"])
    for n in range(3):
        await gql_data(client, POST, {"session": ids[0], "body": f"m{n}"}, token=alice)

    page = await gql_data(client, SESSIONS, {"first": 2, "messages": 2}, token=alice)
    sessions = page["chatSessions"]
    assert [e["node"]["title"] for e in sessions["edges"]] == ["first", "third"]
    messages = sessions["edges"][0]["node"]["messages"]
    assert [e["node"]["body"] for e in messages["edges"]] == ["m0", "m1"]
    assert messages["pageInfo"]["hasNextPage"] is True
    rest = await gql_data(
        client, SESSIONS,
        {"first": 1, "messages": 2, "messagesAfter": messages["pageInfo"]["endCursor"]},
        token=alice,
    )  # fmt: skip
    tail = rest["chatSessions"]["edges"][0]["node"]["messages"]
    assert [e["node"]["body"] for e in tail["edges"]] == ["m2"]
    assert tail["pageInfo"]["hasNextPage"] is False
    last = await gql_data(
        client, SESSIONS, {"first": 2, "after": sessions["pageInfo"]["endCursor"], "messages": 1},
        token=alice,
    )  # fmt: skip
    assert [e["node"]["title"] for e in last["chatSessions"]["edges"]] == ["second"]


async def test_listing_sessions_with_messages_costs_the_same_for_2_or_5(client, db, alice):
    async def queries() -> int:
        with count_queries() as sent:
            await gql_data(client, SESSIONS, {"first": 10, "messages": 3}, token=alice)
        return len(sent)

    async def open_with_messages() -> None:
        data = await gql_data(client, START_CHAT, {"title": "t"}, token=alice)
        session = data["startChatSession"]["chatSession"]["id"]
        for n in range(4):
            await gql_data(client, POST, {"session": session, "body": f"m{n}"}, token=alice)

    for _ in range(2):
        await open_with_messages()
    few = await queries()
    for _ in range(3):
        await open_with_messages()
    assert await queries() == few


async def test_session_nodes_resolve_for_their_owner_only(client, catalog, alice, bob, admin):
    ar_product = next(p for p in catalog if p.is_active and p.ar_enabled)
    ar = await gql_data(client, START_AR, {"product": pid(ar_product)}, token=alice)
    chat = await gql_data(client, START_CHAT, {"title": "t"}, token=alice)
    session_id = chat["startChatSession"]["chatSession"]["id"]
    message = await gql_data(client, POST, {"session": session_id, "body": "hi"}, token=alice)
    ids = [
        ar["startArSession"]["arSession"]["id"],
        session_id,
        message["postChatMessage"]["message"]["id"],
    ]
    query = "query($id: ID!) { node(id: $id) { id } }"
    for node_id in ids:
        assert (await gql_data(client, query, {"id": node_id}, token=alice))["node"] == {
            "id": node_id
        }
        for token in (bob, admin, None):
            assert (await gql_data(client, query, {"id": node_id}, token=token))["node"] is None
