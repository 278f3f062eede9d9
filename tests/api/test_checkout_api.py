"""Checkout through GraphQL: the order, exact totals, idempotency, userErrors, live events."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from models import CartItem, Order, Product
from services import events
from tests.api.commerce import CHECKOUT, GET_CART, add, checkout, money, pid, sellable
from tests.support.db import row_lock
from tests.support.graphql import gql_data, user_errors


async def _stock(*products: Product) -> list[int]:
    return [(await Product.get(id=p.id)).inventory for p in products]


async def test_checkout_turns_the_cart_into_an_order(client, catalog, alice):
    first, second = sellable(catalog, stock=5, count=2)
    await add(client, alice, first, 3)
    await add(client, alice, second, 1)

    payload = await checkout(client, alice)

    assert payload["userErrors"] == []
    order = payload["order"]
    assert order["status"] == "PENDING"
    assert money(order["total"]) == first.price * 3 + second.price
    assert order["total"]["currency"] == "USD"
    assert [
        (i["product"]["id"], i["productName"], i["quantity"], money(i["unitPrice"]),
         money(i["lineTotal"]))
        for i in order["items"]
    ] == [
        (pid(first), first.name, 3, first.price, first.price * 3),
        (pid(second), second.name, 1, second.price, second.price),
    ]  # fmt: skip
    assert await _stock(first, second) == [first.inventory - 3, second.inventory - 1]
    assert (await gql_data(client, GET_CART, token=alice))["cart"]["lines"] == []


async def test_the_same_key_returns_the_same_order_and_reuse_is_refused(client, catalog, alice):
    (product,) = sellable(catalog, stock=5)
    await add(client, alice, product, 2)
    placed = (await checkout(client, alice, key="order-1"))["order"]
    again = await checkout(client, alice, key="order-1")
    assert again["order"] == placed and again["userErrors"] == []
    await add(client, alice, product, 1)
    reused = await checkout(client, alice, key="order-1")
    assert reused["order"] is None
    assert user_errors(reused) == [("idempotencyKey", "IDEMPOTENCY_KEY_REUSED")]
    assert await Order.all().count() == 1
    assert await _stock(product) == [product.inventory - 2]


async def test_refused_checkouts_report_every_problem_and_write_nothing(client, catalog, alice):
    assert user_errors(await checkout(client, alice)) == [(None, "CART_EMPTY")]
    scarce, withdrawn = sellable(catalog, stock=3, count=2)
    await add(client, alice, scarce, 3)
    await add(client, alice, withdrawn, 1)
    await Product.filter(id=scarce.id).update(inventory=2)  # sold elsewhere meanwhile
    await Product.filter(id=withdrawn.id).update(is_active=False)

    payload = await checkout(client, alice)

    assert payload["order"] is None
    assert user_errors(payload) == [(None, "INSUFFICIENT_STOCK"), (None, "PRODUCT_INACTIVE")]
    assert scarce.name in payload["userErrors"][0]["message"]
    assert await Order.all().count() == 0
    assert await _stock(scarce, withdrawn) == [2, withdrawn.inventory]
    assert await CartItem.all().count() == 2


async def test_ten_identical_requests_place_one_order(client, catalog, alice):
    (product,) = sellable(catalog, stock=5)
    await add(client, alice, product, 2)
    bodies = await asyncio.gather(
        *(gql_data(client, CHECKOUT, {"key": "double-click"}, token=alice) for _ in range(10))
    )
    ids = {body["checkout"]["order"]["id"] for body in bodies}
    assert len(ids) == 1
    assert await Order.all().count() == 1
    assert await _stock(product) == [product.inventory - 2]


async def test_one_cart_becomes_one_order_whatever_the_keys(settings, client, catalog, alice):
    """Regression (PostgreSQL): the cart lock sent no lock clause, so 20 checkouts of one
    3-unit cart with 20 keys placed up to 4 orders and took up to 9 units."""
    (product,) = sellable(catalog, stock=10)
    await add(client, alice, product, 3)
    requests = [gql_data(client, CHECKOUT, {"key": f"tab-{i}"}, token=alice) for i in range(20)]
    if settings.is_postgres:
        # Hold the product row so every checkout is in flight before the first can finish.
        async with row_lock(settings, "products", product.id) as lock:
            racing = asyncio.gather(*requests)
            # Every pooled connection is in a checkout blocked on a lock.
            await lock.wait_for_waiters(settings.database_pool_size)
        bodies = await racing
    else:
        bodies = await asyncio.gather(*requests)
    placed = [b["checkout"]["order"] for b in bodies if b["checkout"]["order"]]
    refused = [user_errors(b["checkout"]) for b in bodies if not b["checkout"]["order"]]
    assert len(placed) == 1
    assert refused == [[(None, "CART_EMPTY")]] * 19
    assert await Order.all().count() == 1
    assert await _stock(product) == [product.inventory - 3]


async def test_stock_and_order_events_reach_live_subscribers_after_commit(client, catalog, alice):
    (product,) = sellable(catalog, stock=5)
    await add(client, alice, product, 2)
    hub = events.hub()
    assert hub is not None
    async with hub.subscribe(events.ORDERS) as orders, hub.subscribe(events.INVENTORY) as stock:
        order = (await checkout(client, alice))["order"]
        async with asyncio.timeout(2):
            order_event = (await anext(orders)).payload
            stock_event = (await anext(stock)).payload
    assert order_event["status"] == "PENDING" and order_event["previousStatus"] is None
    assert Decimal(order_event["total"]) == money(order["total"])
    assert stock_event == {
        "productId": product.id, "inventory": product.inventory - 2, "inStock": True
    }  # fmt: skip
