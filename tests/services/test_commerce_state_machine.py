"""A stateful property test of the commerce services: random interleavings of cart edits,
checkouts, cancellations, admin stock changes and forged client reports for several
shoppers, some of them concurrent, with the money and stock invariants checked in SQL after
every step.

Driven through the service layer (`services.cart`, `services.checkout`,
`services.order_transitions`, `services.catalog_admin`, `services.recommendations.feedback`)
rather than GraphQL over HTTP: the invariants live in the services' transactions and row
locks, a step costs a few milliseconds instead of a request's tens, so many more
interleavings fit in the time budget, and the GraphQL layer over the same functions has its
own regression tests (tests/api/test_checkout_api.py and friends).

The model predicts every sequential step's outcome (success, or the error code) from its
own bookkeeping; a concurrent step may end several ways, and the model accepts any outcome
that some serial order would give and then follows what happened. Invariants, read from the
database after every step:

- no product has negative stock;
- stock + units in live (not cancelled) orders = initial stock + admin adjustments, per
  product (and the stock equals the model's);
- every order's total is the sum of its lines;
- one order per checkout of a cart: the orders in the database are exactly the checkouts
  the model saw succeed (two concurrent checkouts of one cart with different keys give one);
- server-witnessed interactions (cart adds, purchases, AR views) exist only for the
  server's own flows: one cart add per accepted `add_to_cart`, one purchase per order line,
  one AR view per AR session; a client's report of one is refused and leaves no row.

`STATEFUL_EXAMPLES` (default 10 per backend) and `STATEFUL_STEPS` (default 25) bound the
run in `make test` (about 10 s); `make fuzz` runs many more.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from core.errors import DomainError, ErrorCode
from core.sql import SqlBuilder
from models import ARSession, CartItem, Order, OrderItem, OrderStatus, Product, User
from models.interaction import InteractionAction, UserInteraction
from services import ar_sessions, cart, catalog_admin, order_transitions
from services import checkout as checkouts
from services.auth import Viewer
from services.recommendations import feedback
from services.recommendations.rewards import RewardTable
from tests.services.conftest import CURRENCY
from tests.support.db import row_lock

pytestmark = [pytest.mark.fuzz, pytest.mark.slow]

EXAMPLES = int(os.environ.get("STATEFUL_EXAMPLES", "10"))
STEPS = int(os.environ.get("STATEFUL_STEPS", "25"))
SHOPPERS = 3
# (price, initial stock); small stocks so that shoppers run out and compete.
CATALOG = (("9.99", 4), ("0.10", 6), ("123.45", 2), ("19.90", 9))
WITNESSED = (InteractionAction.CART_ADD, InteractionAction.PURCHASE, InteractionAction.AR_VIEW)
LIVE = (OrderStatus.PENDING, OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.DELIVERED)
NEXT_STATUS = {
    OrderStatus.PENDING: OrderStatus.CONFIRMED,
    OrderStatus.CONFIRMED: OrderStatus.SHIPPED,
    OrderStatus.SHIPPED: OrderStatus.DELIVERED,
}
CALL_TIMEOUT = 60.0
# Two transactions reach a held row lock in milliseconds; not queueing at all is a failure
# (a lock that locks nothing), so this need not be long.
QUEUE_TIMEOUT = 5.0

shopper_index = st.integers(0, SHOPPERS - 1)
product_index = st.integers(0, len(CATALOG) - 1)


@dataclass
class PlacedOrder:
    user: int
    lines: dict[int, int]
    total: Decimal
    key: str
    status: OrderStatus = OrderStatus.PENDING


@dataclass
class Outcome:
    value: Any = None
    code: ErrorCode | None = None

    @property
    def ok(self) -> bool:
        return self.code is None


async def outcome(call) -> Outcome:
    try:
        return Outcome(value=await call)
    except DomainError as error:
        return Outcome(code=error.code)


async def together(*calls) -> list[Outcome]:
    return list(await asyncio.gather(*(outcome(c) for c in calls)))


async def order_lines(order_id: int) -> dict[int, int]:
    rows = await OrderItem.filter(order_id=order_id).values_list("product_id", "quantity")
    return dict(rows)


@dataclass
class World:
    """What the model believes: the example's own shoppers and products, and every change
    the services reported as done."""

    users: list[User]
    admin: Viewer
    products: list[Product]
    ar_product: Product
    initial: dict[int, int]
    adjusted: Counter = field(default_factory=Counter)
    carts: dict[int, dict[int, int]] = field(default_factory=dict)
    orders: dict[int, PlacedOrder] = field(default_factory=dict)
    cart_adds: Counter = field(default_factory=Counter)
    ar_views: int = 0
    last_key: dict[int, tuple[str, int]] = field(default_factory=dict)

    def stock(self, product_id: int) -> int:
        sold = sum(
            order.lines.get(product_id, 0)
            for order in self.orders.values()
            if order.status is not OrderStatus.CANCELLED
        )
        return self.initial[product_id] + self.adjusted[product_id] - sold

    def price(self, product_id: int) -> Decimal:
        return next(p.price for p in self.products if p.id == product_id)

    def total(self, lines: dict[int, int]) -> Decimal:
        return sum((self.price(p) * q for p, q in lines.items()), Decimal("0.00"))

    def checkout_refusal(self, user_id: int) -> ErrorCode | None:
        """The error a checkout of this cart must give now, or None if it must succeed."""
        lines = self.carts[user_id]
        if not lines:
            return ErrorCode.CART_EMPTY
        if any(q > self.stock(p) for p, q in lines.items()):
            return ErrorCode.INSUFFICIENT_STOCK
        return None

    def placed(self, user_id: int, order: Order, key: str) -> None:
        """A checkout succeeded: it must have ordered exactly the cart, at its price."""
        lines = self.carts[user_id]
        assert order.id not in self.orders, f"checkout {key} replayed order {order.id}"
        assert order.total == self.total(lines), (order.total, lines)
        self.orders[order.id] = PlacedOrder(user_id, dict(lines), order.total, key)
        self.carts[user_id] = {}
        self.last_key[user_id] = (key, order.id)


async def make_world(tag: str) -> World:
    users = [await User.create(clerk_id=f"user_sm_{tag}_{i}") for i in range(SHOPPERS)]
    admin_user = await User.create(clerk_id=f"user_sm_{tag}_admin")
    products = [
        await Product.create(
            name=f"SM {tag} {i}",
            price=Decimal(price),
            currency=CURRENCY,
            category="Tests",
            brand="Acme",
            inventory=stock,
        )
        for i, (price, stock) in enumerate(CATALOG)
    ]
    ar_product = await Product.create(
        name=f"SM {tag} AR",
        price=Decimal("5.00"),
        currency=CURRENCY,
        category="Tests",
        brand="Acme",
        inventory=0,
        model_url="/media/chair.glb",
        has_3d_model=True,
        ar_enabled=True,
    )
    return World(
        users=users,
        admin=Viewer(user=admin_user, is_admin=True),
        products=products,
        ar_product=ar_product,
        initial={p.id: p.inventory for p in products},
        carts={u.id: {} for u in users},
    )


async def database_view(world: World) -> dict[str, Any]:
    """Everything the invariants look at, read with SQL (and the ORM for JSON columns)."""
    product_ids = [p.id for p in world.products]
    user_ids = [u.id for u in world.users]
    view: dict[str, Any] = {}

    sql = SqlBuilder()
    view["negative"] = await sql.rows("SELECT id, inventory FROM products WHERE inventory < 0")

    sql = SqlBuilder()
    ids = ", ".join(sql.param(i) for i in product_ids)
    live = ", ".join(sql.param(s.value) for s in LIVE)
    view["accounted"] = await sql.rows(
        "SELECT p.id, p.inventory, p.inventory + COALESCE(SUM(CASE WHEN o.status IN "
        f"({live}) THEN i.quantity ELSE 0 END), 0) AS accounted FROM products p "
        "LEFT JOIN order_items i ON i.product_id = p.id LEFT JOIN orders o ON o.id = i.order_id "
        f"WHERE p.id IN ({ids}) GROUP BY p.id, p.inventory"
    )

    sql = SqlBuilder()
    users = ", ".join(sql.param(i) for i in user_ids)
    # ROUND on both sides: SQLite keeps decimals as text and multiplies them as reals.
    view["bad_totals"] = await sql.rows(
        "SELECT o.id, o.total, SUM(i.quantity * i.unit_price) AS lines FROM orders o "
        f"LEFT JOIN order_items i ON i.order_id = o.id WHERE o.user_id IN ({users}) "
        "GROUP BY o.id, o.total "
        "HAVING ROUND(o.total, 2) <> ROUND(COALESCE(SUM(i.quantity * i.unit_price), 0), 2)"
    )

    orders = await Order.filter(user_id__in=user_ids).values_list("id", "user_id", "status")
    view["orders"] = {i: (u, OrderStatus(s)) for i, u, s in orders}
    lines = await OrderItem.filter(order__user_id__in=user_ids).values_list(
        "order_id", "product_id", "quantity"
    )
    view["lines"] = sorted(lines)
    items = await CartItem.filter(user_id__in=user_ids).values_list(
        "user_id", "product_id", "quantity"
    )
    view["carts"] = {u: {p: q for uu, p, q in items if uu == u} for u in user_ids}
    view["witnessed"] = await UserInteraction.filter(
        product_id__in=[*product_ids, world.ar_product.id], action__in=list(WITNESSED)
    ).values("user_id", "session_id", "product_id", "action", "context")
    view["ar_sessions"] = await ARSession.filter(user_id__in=user_ids).count()
    return view


def check_invariants(world: World, view: dict[str, Any]) -> None:
    assert view["negative"] == [], f"negative stock: {view['negative']}"
    for row in view["accounted"]:
        expected = world.initial[row["id"]] + world.adjusted[row["id"]]
        assert row["accounted"] == expected, (
            f"product {row['id']}: stock + live order units = {row['accounted']}, "
            f"initial + adjustments = {expected}"
        )
        assert row["inventory"] == world.stock(row["id"]), (row, world.stock(row["id"]))
    assert view["bad_totals"] == [], f"order totals differ from their lines: {view['bad_totals']}"

    expected_orders = {i: (o.user, o.status) for i, o in world.orders.items()}
    assert view["orders"] == expected_orders, "orders differ from the checkouts that succeeded"
    expected_lines = sorted((i, p, q) for i, o in world.orders.items() for p, q in o.lines.items())
    assert view["lines"] == expected_lines
    assert view["carts"] == world.carts

    seen = Counter()
    purchases = []
    for row in view["witnessed"]:
        action = InteractionAction(row["action"])
        assert row["user_id"] is not None and row["session_id"] is None, (
            f"a {action} without a signed-in shopper: {row}"
        )
        seen[(action, row["user_id"])] += 1
        if action is InteractionAction.PURCHASE:
            purchases.append((row["context"]["orderId"], row["product_id"]))
    adds = {u: n for (a, u), n in seen.items() if a is InteractionAction.CART_ADD}
    assert adds == {u: n for u, n in world.cart_adds.items() if n}, "cart adds differ"
    assert sorted(purchases) == sorted((i, p) for i, p, _ in expected_lines), "purchases differ"
    ar_views = sum(n for (a, _), n in seen.items() if a is InteractionAction.AR_VIEW)
    assert ar_views == world.ar_views == view["ar_sessions"]


async def test_commerce_invariants_hold_under_random_interleavings(settings, app, db):
    loop = asyncio.get_running_loop()
    runtime = app.state.recommender
    rewards = RewardTable()
    on_postgres = settings.is_postgres
    worlds = itertools.count()

    def run(coro):
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=CALL_TIMEOUT)

    class Shop(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.world = run(make_world(f"{next(worlds)}"))
            self.keys = itertools.count()

        # -- helpers -------------------------------------------------------------------
        def user(self, index: int) -> int:
            return self.world.users[index].id

        def product(self, index: int) -> int:
            return self.world.products[index].id

        @staticmethod
        def pick(choices, index: int) -> Any:
            """One of `choices` (in id order), or None. Drawn as a plain number whatever the
            state, so that a replay draws the same data even when a concurrent step ended
            differently (Hypothesis requires the draws themselves to be reproducible)."""
            ordered = sorted(choices)
            return ordered[index % len(ordered)] if ordered else None

        def key(self) -> str:
            return f"key-{next(self.keys)}"

        def add_call(self, user_id: int, product_id: int, quantity: int):
            return cart.add_to_cart(
                user_id=user_id,
                product_id=product_id,
                quantity=quantity,
                rewards=rewards,
                currency=CURRENCY,
            )

        def checkout_call(self, user_id: int, key: str):
            return checkouts.checkout(
                user_id=user_id, idempotency_key=key, rewards=rewards, currency=CURRENCY
            )

        def viewer(self, user_id: int) -> Viewer:
            return Viewer(user=next(u for u in self.world.users if u.id == user_id))

        async def queued(
            self, table: str, row_id: int, calls: list, *, waiters: int = 2
        ) -> list[Outcome]:
            """Run `calls` at once; on PostgreSQL only after `waiters` of them wait on
            `row_id` (held by an outside connection), so they really overlap."""
            if not on_postgres or waiters < 2:
                return await together(*calls)
            async with row_lock(settings, table, row_id) as lock:
                tasks = asyncio.gather(*(outcome(c) for c in calls))
                await lock.wait_for_waiters(waiters, timeout=QUEUE_TIMEOUT)
            return list(await tasks)

        # -- sequential steps: the model predicts the outcome -------------------------
        @rule(u=shopper_index, p=product_index, quantity=st.integers(1, 4))
        def add_to_cart(self, u: int, p: int, quantity: int) -> None:
            user_id, product_id = self.user(u), self.product(p)
            total = self.world.carts[user_id].get(product_id, 0) + quantity
            result = run(outcome(self.add_call(user_id, product_id, quantity)))
            expected = None if total <= self.world.stock(product_id) else "INSUFFICIENT_STOCK"
            assert result.code == expected, (result.code, expected)
            if result.ok:
                self.world.carts[user_id][product_id] = total
                self.world.cart_adds[user_id] += 1

        @rule(u=shopper_index, p=product_index, quantity=st.integers(0, 5))
        def update_quantity(self, u: int, p: int, quantity: int) -> None:
            user_id, product_id = self.user(u), self.product(p)
            lines = self.world.carts[user_id]
            result = run(
                outcome(
                    cart.update_cart_item(
                        user_id=user_id, product_id=product_id, quantity=quantity, currency=CURRENCY
                    )
                )
            )
            if quantity == 0:
                expected = None
            elif quantity > self.world.stock(product_id):
                expected = ErrorCode.INSUFFICIENT_STOCK
            elif product_id not in lines:
                expected = ErrorCode.CART_ITEM_NOT_FOUND
            else:
                expected = None
            assert result.code == expected, (result.code, expected)
            if result.ok and quantity == 0:
                lines.pop(product_id, None)
            elif result.ok:
                lines[product_id] = quantity

        @rule(u=shopper_index, p=product_index)
        def remove(self, u: int, p: int) -> None:
            user_id, product_id = self.user(u), self.product(p)
            run(cart.remove_from_cart(user_id=user_id, product_id=product_id, currency=CURRENCY))
            self.world.carts[user_id].pop(product_id, None)

        @rule(u=shopper_index)
        def checkout(self, u: int) -> None:
            user_id, key = self.user(u), self.key()
            expected = self.world.checkout_refusal(user_id)
            result = run(outcome(self.checkout_call(user_id, key)))
            assert result.code == expected, (result.code, expected)
            if result.ok:
                self.world.placed(user_id, result.value, key)

        @rule(pick=st.integers(0, 1000))
        def retry_last_key(self, pick: int) -> None:
            """The last key again: the same order (a replay), or refused if the cart now
            holds something else. Never a second order."""
            user_id = self.pick(self.world.last_key, pick)
            if user_id is None:
                return
            key, order_id = self.world.last_key[user_id]
            lines = self.world.carts[user_id]
            result = run(outcome(self.checkout_call(user_id, key)))
            if lines and lines != self.world.orders[order_id].lines:
                assert result.code is ErrorCode.IDEMPOTENCY_KEY_REUSED
            else:
                assert result.ok and result.value.id == order_id

        @rule(pick=st.integers(0, 1000))
        def cancel(self, pick: int) -> None:
            order_id = self.pick(self.world.orders, pick)
            if order_id is None:
                return
            order = self.world.orders[order_id]
            result = run(
                outcome(
                    order_transitions.cancel_order(
                        order_id=order_id, viewer=self.viewer(order.user)
                    )
                )
            )
            cancellable = order.status in (OrderStatus.PENDING, OrderStatus.CONFIRMED)
            assert result.code == (None if cancellable else ErrorCode.INVALID_TRANSITION)
            if result.ok:
                order.status = OrderStatus.CANCELLED

        @rule(pick=st.integers(0, 1000))
        def advance(self, pick: int) -> None:
            """Admin: confirm, ship or deliver (shipped orders can no longer be cancelled)."""
            order_id = self.pick(self.world.orders, pick)
            if order_id is None:
                return
            order = self.world.orders[order_id]
            target = NEXT_STATUS.get(order.status)
            if target is None:
                return
            run(
                order_transitions.update_order_status(
                    order_id=order_id, status=target, viewer=self.world.admin
                )
            )
            order.status = target

        @rule(p=product_index, delta=st.integers(-5, 5).filter(bool))
        def adjust_stock(self, p: int, delta: int) -> None:
            product_id = self.product(p)
            result = run(outcome(catalog_admin.adjust_inventory(product_id, delta)))
            expected = None if self.world.stock(product_id) + delta >= 0 else "INSUFFICIENT_STOCK"
            assert result.code == expected, (result.code, expected)
            if result.ok:
                self.world.adjusted[product_id] += delta

        @rule(
            u=shopper_index,
            p=product_index,
            action=st.sampled_from(WITNESSED),
            anonymous=st.booleans(),
        )
        def forge_witnessed_action(self, u: int, p: int, action, anonymous: bool) -> None:
            """A client reports a purchase, cart add or AR view itself: refused, no row."""
            result = run(
                outcome(
                    feedback.record_interaction(
                        rewards=rewards,
                        runtime=runtime,
                        product_id=self.product(p),
                        action=action,
                        user_id=None if anonymous else self.user(u),
                        session_id="sm-session" if anonymous else None,
                    )
                )
            )
            assert result.code is ErrorCode.BAD_USER_INPUT

        @rule(u=shopper_index, p=product_index, action=st.sampled_from(["view", "tick", "cross"]))
        def client_report(self, u: int, p: int, action: str) -> None:
            """What only the client sees is accepted (and is no witnessed action)."""
            run(
                feedback.record_interaction(
                    rewards=rewards,
                    runtime=runtime,
                    product_id=self.product(p),
                    action=InteractionAction(action),
                    user_id=self.user(u),
                    session_id=None,
                )
            )

        @rule(u=shopper_index)
        def view_in_ar(self, u: int) -> None:
            run(
                ar_sessions.start_ar_session(
                    user_id=self.user(u), product_id=self.world.ar_product.id, rewards=rewards
                )
            )
            self.world.ar_views += 1

        # -- concurrent steps ----------------------------------------------------------
        @rule(u=shopper_index)
        def double_checkout(self, u: int) -> None:
            """One cart, two checkouts at once with different keys: one order at most."""
            user_id = self.user(u)
            keys = [self.key(), self.key()]
            expected = self.world.checkout_refusal(user_id)
            results = run(
                self.queued("users", user_id, [self.checkout_call(user_id, k) for k in keys])
            )
            if expected is not None:
                assert [r.code for r in results] == [expected, expected]
                return
            winners = [(k, r) for k, r in zip(keys, results, strict=True) if r.ok]
            assert len(winners) == 1, [r.code for r in results]
            assert sorted(str(r.code) for r in results) == ["CART_EMPTY", "None"]
            key, winner = winners[0]
            self.world.placed(user_id, winner.value, key)

        @rule(p=product_index)
        def rush(self, p: int) -> None:
            """Every shopper checks out at once, contending for the products' stock. Who
            wins depends on the order; every win must be a whole cart, every loss clean."""
            product_id = self.product(p)
            users = [u.id for u in self.world.users if self.world.carts[u.id]]
            if not users:
                return
            keys = {u: self.key() for u in users}
            # Those whose cart holds the product queue on its row; the others just run.
            contenders = sum(product_id in self.world.carts[u] for u in users)
            calls = [self.checkout_call(u, keys[u]) for u in users]
            results = run(self.queued("products", product_id, calls, waiters=contenders))
            for user_id, result in zip(users, results, strict=True):
                if result.ok:
                    self.world.placed(user_id, result.value, keys[user_id])
                else:
                    assert result.code is ErrorCode.INSUFFICIENT_STOCK, result.code
            # Losers lost for a reason: with the stock the winners left, they still lack it.
            for user_id, result in zip(users, results, strict=True):
                if not result.ok:
                    assert self.world.checkout_refusal(user_id) is ErrorCode.INSUFFICIENT_STOCK

        @rule(u=shopper_index, p=product_index, delta=st.integers(-4, -1))
        def checkout_during_stock_removal(self, u: int, p: int, delta: int) -> None:
            """A checkout and an admin's stock removal on one of its products, at once."""
            user_id, product_id, key = self.user(u), self.product(p), self.key()
            done, removed = run(
                together(
                    self.checkout_call(user_id, key),
                    catalog_admin.adjust_inventory(product_id, delta),
                )
            )
            assert done.code in (None, ErrorCode.CART_EMPTY, ErrorCode.INSUFFICIENT_STOCK)
            assert removed.code in (None, ErrorCode.INSUFFICIENT_STOCK)
            if done.ok:
                self.world.placed(user_id, done.value, key)
            if removed.ok:
                self.world.adjusted[product_id] += delta
            # A refused removal lacked stock then, so it still does (stock only fell since).
            if removed.code is not None:
                assert self.world.stock(product_id) + delta < 0

        @rule(u=shopper_index, p=product_index, quantity=st.integers(1, 2))
        def add_during_checkout(self, u: int, p: int, quantity: int) -> None:
            """A cart add racing its own cart's checkout: the add lands wholly before (it is
            ordered) or wholly after (it stays in the cart), never lost or half-counted."""
            user_id, product_id, key = self.user(u), self.product(p), self.key()
            before = dict(self.world.carts[user_id])
            added, done = run(
                together(
                    self.add_call(user_id, product_id, quantity), self.checkout_call(user_id, key)
                )
            )
            assert added.code in (None, ErrorCode.INSUFFICIENT_STOCK)
            with_add = dict(before)
            if added.ok:
                with_add[product_id] = with_add.get(product_id, 0) + quantity
                self.world.cart_adds[user_id] += 1
            if not done.ok:
                assert done.code in (ErrorCode.CART_EMPTY, ErrorCode.INSUFFICIENT_STOCK)
                self.world.carts[user_id] = with_add
                return
            ordered = run(order_lines(done.value.id))
            if ordered == with_add:  # the add came first
                self.world.carts[user_id] = with_add
                self.world.placed(user_id, done.value, key)
            else:  # the checkout came first
                assert ordered == before, (ordered, before, with_add)
                self.world.carts[user_id] = before
                self.world.placed(user_id, done.value, key)
                if added.ok:
                    self.world.carts[user_id] = {product_id: quantity}

        @rule(pick=st.integers(0, 1000))
        def double_cancel(self, pick: int) -> None:
            """Two cancellations of one order at once restock it once."""
            order_id = self.pick(self.world.orders, pick)
            if order_id is None:
                return
            order = self.world.orders[order_id]
            viewer = self.viewer(order.user)
            calls = [
                order_transitions.cancel_order(order_id=order_id, viewer=viewer) for _ in range(2)
            ]
            results = run(self.queued("orders", order_id, calls))
            codes = sorted(str(r.code) for r in results)
            if order.status in (OrderStatus.PENDING, OrderStatus.CONFIRMED):
                assert codes == ["INVALID_TRANSITION", "None"], codes
                order.status = OrderStatus.CANCELLED
            else:
                assert codes == ["INVALID_TRANSITION", "INVALID_TRANSITION"], codes

        @invariant()
        def books_balance(self) -> None:
            check_invariants(self.world, run(database_view(self.world)))

    await asyncio.to_thread(
        run_state_machine_as_test,
        Shop,
        settings=hypothesis_settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=False,
            database=None,
        ),
    )
