"""Orders through GraphQL: lists, lookups, privacy, status changes, no N+1."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest

from models import Order, OrderItem, OrderStatus, Product, User
from tests.api.commerce import ORDER, add, checkout, sellable
from tests.support.graphql import (
    count_queries,
    error_codes,
    global_id,
    gql,
    gql_data,
    pk_of,
    user_errors,
)

ORDERS = f"""
query Orders($first: Int, $after: String, $status: OrderStatus, $user: ID,
             $createdAfter: DateTime, $createdBefore: DateTime) {{
  orders(first: $first, after: $after, status: $status, userId: $user,
         createdAfter: $createdAfter, createdBefore: $createdBefore) {{
    edges {{ cursor node {{ {ORDER} user {{ id }} }} }}
    pageInfo {{ hasNextPage hasPreviousPage endCursor }}
  }}
}}"""
ONE_ORDER = f"query($id: ID!) {{ order(id: $id) {{ {ORDER} user {{ id }} }} }}"
NODE = "query($id: ID!) { node(id: $id) { id ... on Order { status } } }"
CANCEL = (
    "mutation($id: ID!) { cancelOrder(id: $id) { order { id status } userErrors { field code } } }"
)
SET_STATUS = """
mutation($id: ID!, $status: OrderStatus!) {
  updateOrderStatus(id: $id, status: $status) { order { id status } userErrors { field code } }
}"""


async def _place(client, token, products, key) -> str:
    for product in products:
        await add(client, token, product)
    return (await checkout(client, token, key=key))["order"]["id"]


def _iso(variables: dict) -> dict:
    return {k: v.isoformat() for k, v in variables.items()}


def _ids(data) -> list[str]:
    return [edge["node"]["id"] for edge in data["orders"]["edges"]]


@pytest.fixture
async def placed(client, catalog, alice, bob) -> dict[str, list[str]]:
    """Three orders by Alice (newest last in the list), one by Bob."""
    products = sellable(catalog, stock=10, count=4)
    alice_orders = [await _place(client, alice, products[i : i + 1], f"a{i}") for i in range(3)]
    bob_orders = [await _place(client, bob, products[3:], "b0")]
    return {"alice": alice_orders, "bob": bob_orders}


async def test_shoppers_page_through_their_own_orders_newest_first(client, placed, alice):
    first = await gql_data(client, ORDERS, {"first": 2}, token=alice)
    assert _ids(first) == placed["alice"][::-1][:2]
    assert first["orders"]["pageInfo"]["hasNextPage"] is True
    rest = await gql_data(
        client, ORDERS, {"first": 2, "after": first["orders"]["pageInfo"]["endCursor"]},
        token=alice,
    )  # fmt: skip
    assert _ids(rest) == placed["alice"][:1]
    page_info = rest["orders"]["pageInfo"]
    assert (page_info["hasNextPage"], page_info["hasPreviousPage"]) == (False, True)
    assert page_info["endCursor"] == rest["orders"]["edges"][0]["cursor"]


async def test_filters_by_status_and_date(client, placed, alice, admin):
    await gql_data(
        client, SET_STATUS, {"id": placed["alice"][1], "status": "CONFIRMED"}, token=admin
    )
    confirmed = await gql_data(client, ORDERS, {"status": "CONFIRMED"}, token=alice)
    assert _ids(confirmed) == [placed["alice"][1]]
    oldest = await Order.filter(id=pk_of(placed["alice"][0])).first()
    # Offsets other than UTC compare correctly too (SQLite compares timestamps as text).
    cet = timezone(timedelta(hours=2))
    after_first = {"createdAfter": (oldest.created_at + timedelta(microseconds=1)).astimezone(cet)}
    assert (
        _ids(await gql_data(client, ORDERS, _iso(after_first), token=alice))
        == (placed["alice"][:0:-1])
    )
    before_next = {"createdBefore": (oldest.created_at + timedelta(microseconds=1)).astimezone(cet)}
    assert _ids(await gql_data(client, ORDERS, _iso(before_next), token=alice)) == [
        placed["alice"][0]
    ]
    newest = await Order.all().order_by("-created_at").first()
    later = {"createdAfter": (newest.created_at + timedelta(seconds=1)).isoformat()}
    assert _ids(await gql_data(client, ORDERS, later, token=alice)) == []


async def test_admins_see_every_order_and_filter_by_user(client, placed, admin, alice):
    everything = await gql_data(client, ORDERS, {"first": 10}, token=admin)
    assert set(_ids(everything)) == {*placed["alice"], *placed["bob"]}
    bob = await User.get(clerk_id="user_bob")
    only_bob = await gql_data(client, ORDERS, {"user": global_id("User", bob.id)}, token=admin)
    assert _ids(only_bob) == placed["bob"]
    assert only_bob["orders"]["edges"][0]["node"]["user"]["id"] == global_id("User", bob.id)
    body = await gql(client, ORDERS, {"user": global_id("User", bob.id)}, token=alice)
    assert error_codes(body) == ["FORBIDDEN"]


async def test_an_order_is_visible_to_its_owner_and_admins_only(client, placed, alice, bob, admin):
    order_id = placed["alice"][0]
    for query in (ONE_ORDER, NODE):
        field = "order" if query is ONE_ORDER else "node"
        assert (await gql_data(client, query, {"id": order_id}, token=alice))[field][
            "id"
        ] == order_id
        assert (await gql_data(client, query, {"id": order_id}, token=admin))[field][
            "id"
        ] == order_id
        assert (await gql_data(client, query, {"id": order_id}, token=bob))[field] is None
        assert (await gql_data(client, query, {"id": order_id}))[field] is None
    missing = global_id("Order", 10**6)
    assert (await gql_data(client, ONE_ORDER, {"id": missing}, token=admin))["order"] is None
    assert _ids(await gql_data(client, ORDERS, {}, token=bob)) == placed["bob"]


async def test_listing_orders_costs_the_same_queries_for_2_or_6(client, catalog, alice):
    products = sellable(catalog, stock=10, count=3)

    async def queries_for_listing() -> int:
        with count_queries() as queries:
            await gql_data(client, ORDERS, {"first": 20}, token=alice)
        return len(queries)

    for i in range(2):
        await _place(client, alice, products, f"k{i}")
    few = await queries_for_listing()
    for i in range(2, 6):
        await _place(client, alice, products, f"k{i}")
    assert await queries_for_listing() == few


async def test_cancelling_restocks_and_cannot_happen_twice(client, placed, alice, bob):
    order_id = placed["alice"][0]
    (product_id,) = await OrderItem.filter(order_id=pk_of(order_id)).values_list(
        "product_id", flat=True
    )
    before = (await Product.get(id=product_id)).inventory

    foreign = (await gql_data(client, CANCEL, {"id": order_id}, token=bob))["cancelOrder"]
    assert user_errors(foreign) == [("id", "ORDER_NOT_FOUND")]
    done = (await gql_data(client, CANCEL, {"id": order_id}, token=alice))["cancelOrder"]
    assert done == {"order": {"id": order_id, "status": "CANCELLED"}, "userErrors": []}
    assert (await Product.get(id=product_id)).inventory == before + 1
    again = (await gql_data(client, CANCEL, {"id": order_id}, token=alice))["cancelOrder"]
    assert user_errors(again) == [("status", "INVALID_TRANSITION")]
    assert (await Product.get(id=product_id)).inventory == before + 1


async def test_admins_move_orders_along_and_invalid_moves_are_user_errors(
    client, placed, admin, alice
):
    order_id = placed["alice"][0]
    for status in ("CONFIRMED", "SHIPPED", "DELIVERED"):
        result = await gql_data(client, SET_STATUS, {"id": order_id, "status": status}, token=admin)
        assert result["updateOrderStatus"]["order"]["status"] == status
    refused = await gql_data(
        client, SET_STATUS, {"id": order_id, "status": "CANCELLED"}, token=admin
    )
    assert user_errors(refused["updateOrderStatus"]) == [("status", "INVALID_TRANSITION")]
    assert (await Order.get(id=pk_of(order_id))).status is OrderStatus.DELIVERED
    body = await gql(client, SET_STATUS, {"id": order_id, "status": "CONFIRMED"}, token=alice)
    assert error_codes(body) == ["FORBIDDEN"]
