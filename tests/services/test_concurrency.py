"""Races that must not lose money or stock, run for real.

On PostgreSQL an outside connection first holds the contended row, so the transactions
demonstrably pile up behind the lock (as many as the pool has connections) before they are
let go. On SQLite the same tests check the serialised path.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from core.errors import DomainError
from models import CartItem, Order, OrderItem, OrderStatus, Product, User
from services import catalog_admin, order_transitions
from services import checkout as checkouts
from services.auth import Viewer
from services.events import INVENTORY, ORDERS
from tests.services.conftest import CURRENCY
from tests.support.db import row_lock

pytestmark = pytest.mark.slow


async def _outcome(call) -> str:
    try:
        await call
    except DomainError as error:
        return error.code.value
    return "OK"


async def _race(settings, table: str, row_id: int, calls: list) -> list[str]:
    """Run `calls` concurrently; on PostgreSQL only after they all queue behind `row_id`."""
    if not settings.is_postgres:
        return await asyncio.gather(*(_outcome(c) for c in calls))
    async with row_lock(settings, table, row_id) as lock:
        tasks = asyncio.gather(*(_outcome(c) for c in calls))
        # Every pooled connection is inside a transaction that waits for this row.
        waiting = await lock.wait_for_waiters(min(len(calls), settings.database_pool_size))
        assert waiting >= 2
    return await tasks


async def _buyers(count: int, product: Product, quantity: int = 1) -> list[int]:
    await User.bulk_create([User(clerk_id=f"user_rush_{i}") for i in range(count)])
    ids = await User.filter(clerk_id__startswith="user_rush_").values_list("id", flat=True)
    await CartItem.bulk_create(
        [CartItem(user_id=i, product_id=product.id, quantity=quantity) for i in ids]
    )
    return list(ids)


async def test_200_buyers_50_units_exactly_50_orders(settings, make_product, rewards, published):
    product = await make_product(inventory=50, price="9.99")
    buyers = await _buyers(200, product)
    calls = [
        checkouts.checkout(
            user_id=b, idempotency_key=f"rush-{b}", rewards=rewards, currency=CURRENCY
        )
        for b in buyers
    ]

    outcomes = Counter(await _race(settings, "products", product.id, calls))

    assert outcomes == {"OK": 50, "INSUFFICIENT_STOCK": 150}
    assert (await Product.get(id=product.id)).inventory == 0
    assert await Order.all().count() == 50
    assert sum(await OrderItem.all().values_list("quantity", flat=True)) == 50
    assert await CartItem.all().count() == 150  # refused shoppers keep their carts
    # Each unit was taken exactly once: the published stock levels are 49, 48, ..., 0.
    levels = sorted(p["inventory"] for channel, p in published if channel == INVENTORY)
    assert levels == list(range(50))
    assert sum(channel == ORDERS for channel, _ in published) == 50


async def test_ten_identical_requests_place_one_order(
    settings, make_user, make_product, rewards, published
):
    user = await make_user()
    product = await make_product(inventory=10)
    await CartItem.create(user_id=user.id, product_id=product.id, quantity=3)
    calls = [
        checkouts.checkout(
            user_id=user.id, idempotency_key="double-click", rewards=rewards, currency=CURRENCY
        )
        for _ in range(10)
    ]
    results: list[int] = []

    async def record(call) -> None:
        results.append((await call).id)

    outcomes = await _race(settings, "users", user.id, [record(c) for c in calls])

    assert outcomes == ["OK"] * 10
    assert len(set(results)) == 1
    assert await Order.all().count() == 1
    assert (await Product.get(id=product.id)).inventory == 7
    assert sum(channel == ORDERS for channel, _ in published) == 1


async def test_concurrent_cancellations_restock_once(settings, make_user, make_product, rewards):
    user = await make_user()
    product = await make_product(inventory=10)
    await CartItem.create(user_id=user.id, product_id=product.id, quantity=4)
    order = await checkouts.checkout(
        user_id=user.id, idempotency_key="k", rewards=rewards, currency=CURRENCY
    )
    viewer = Viewer(user=user)
    calls = [order_transitions.cancel_order(order_id=order.id, viewer=viewer) for _ in range(5)]

    outcomes = Counter(await _race(settings, "orders", order.id, calls))

    assert outcomes == {"OK": 1, "INVALID_TRANSITION": 4}
    assert (await Order.get(id=order.id)).status is OrderStatus.CANCELLED
    assert (await Product.get(id=product.id)).inventory == 10


async def test_concurrent_stock_removals_never_go_below_zero(settings, make_product):
    product = await make_product(inventory=10)
    calls = [catalog_admin.adjust_inventory(product.id, -1) for _ in range(25)]

    outcomes = Counter(await _race(settings, "products", product.id, calls))

    assert outcomes == {"OK": 10, "INSUFFICIENT_STOCK": 15}
    assert (await Product.get(id=product.id)).inventory == 0


async def test_concurrent_adds_never_overfill_a_cart(settings, make_user, make_product, rewards):
    """Regression (PostgreSQL): the cart lock locked nothing, so adds racing for the last
    free line each passed the CART_FULL check."""
    from services import cart

    user = await make_user()
    filler = [await make_product(name=f"Filler {i}") for i in range(cart.MAX_CART_LINES - 1)]
    await CartItem.bulk_create(
        [CartItem(user_id=user.id, product_id=p.id, quantity=1) for p in filler]
    )
    contenders = [await make_product(name=f"Contender {i}") for i in range(6)]
    calls = [
        cart.add_to_cart(
            user_id=user.id, product_id=p.id, quantity=1, rewards=rewards, currency=CURRENCY
        )
        for p in contenders
    ]

    outcomes = Counter(await _race(settings, "users", user.id, calls))

    assert outcomes == {"OK": 1, "CART_FULL": 5}
    assert await CartItem.filter(user_id=user.id).count() == cart.MAX_CART_LINES
