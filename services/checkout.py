"""Checkout: turn the shopper's cart into an order, once per idempotency key.

Everything happens in one transaction, and nothing is written unless all of it succeeds:

1. lock the shopper's cart (`cart.lock_cart`): checkouts and cart changes of one shopper
   run one at a time, so a retry waiting here sees the order its twin just committed;
2. a key already used by this shopper returns that order unchanged (a replay), unless the
   cart now holds something else (IDEMPOTENCY_KEY_REUSED);
3. lock the products of the cart in id order (`FOR NO KEY UPDATE` on PostgreSQL; the
   fixed order means two checkouts never wait on each other in a cycle), check that each is
   active and in stock, and decrement the stock;
4. write the order and its lines with the prices of that moment, empty the cart and record
   a purchase per line; inventory and order events go out after the commit.

The unique (user, idempotency_key) index is the backstop: should a concurrent checkout
with the same key ever get past the lock, its insert fails, the transaction rolls back and
the request is answered like a replay.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from decimal import Decimal

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from core.errors import DomainError, DomainErrors, ErrorCode, InvalidInput
from core.money import Money
from core.transactions import AfterCommit, atomic
from models import CartItem, Order, OrderItem, OrderStatus, Product
from models.interaction import InteractionAction
from services import events
from services.cart import lock_cart
from services.interactions import store_interaction
from services.recommendations.feedback import credited_targets
from services.recommendations.rewards import RewardTable

MAX_KEY_LENGTH = 200
KEY_FIELD = "idempotencyKey"

# (cart item id, product id, quantity), sorted by product id.
CartRows = list[tuple[int, int, int]]
# Cart item id -> the recommendation (decision pk) the line was added from.
Credits = dict[int, int]


def cart_fingerprint(lines: Iterable[tuple[int, int]]) -> str:
    """A digest of (product id, quantity) pairs, independent of their order."""
    canonical = ";".join(f"{product_id}x{quantity}" for product_id, quantity in sorted(lines))
    return hashlib.sha256(canonical.encode()).hexdigest()


def validate_key(key: str) -> str:
    """Keys are opaque to the server (a UUID is ideal); only their size and form are checked."""
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise InvalidInput(f"The key must be 1 to {MAX_KEY_LENGTH} characters", field=KEY_FIELD)
    if not key.isprintable() or key != key.strip():
        raise InvalidInput("The key must be printable, without surrounding spaces", field=KEY_FIELD)
    return key


async def checkout(
    *, user_id: int, idempotency_key: str, rewards: RewardTable, currency: str
) -> Order:
    """Place an order for the whole cart, or return the order this key already placed."""
    key = validate_key(idempotency_key)
    try:
        async with atomic() as tx:
            await lock_cart(user_id)
            cart, credits = await _cart_rows_and_credits(user_id)
            existing = await Order.get_or_none(user_id=user_id, idempotency_key=key)
            if existing is not None:
                return _replay(existing, cart)
            return await _place_order(
                tx,
                user_id=user_id,
                key=key,
                cart=cart,
                credits=credits,
                rewards=rewards,
                currency=currency,
            )
    except IntegrityError:
        # Rolled back. Unless a twin request committed an order with this key, it is a bug.
        existing = await Order.get_or_none(user_id=user_id, idempotency_key=key)
        if existing is None:
            raise
        return _replay(existing, await _cart_rows(user_id))


async def _cart_rows(user_id: int) -> CartRows:
    rows, _ = await _cart_rows_and_credits(user_id)
    return rows


async def _cart_rows_and_credits(user_id: int) -> tuple[CartRows, Credits]:
    rows = (
        await CartItem.filter(user_id=user_id)
        .order_by("product_id")
        .values_list("id", "product_id", "quantity", "recommendation_event_id")
    )
    cart = [(int(i), int(p), int(q)) for i, p, q, _ in rows]
    return cart, {int(i): int(e) for i, _, _, e in rows if e is not None}


def _replay(order: Order, cart: CartRows) -> Order:
    """The same key again: the same order, nothing changed. An empty cart is a plain retry
    (the order consumed it); a cart with other contents means the key was reused."""
    if cart and cart_fingerprint((p, q) for _, p, q in cart) != order.cart_fingerprint:
        raise DomainError(
            ErrorCode.IDEMPOTENCY_KEY_REUSED,
            "This key already placed an order for a different cart; send a new key for a new order",
            field=KEY_FIELD,
        )
    return order


def _line_errors(cart: CartRows, products: dict[int, Product]) -> list[DomainError]:
    errors: list[DomainError] = []
    for _, product_id, quantity in cart:
        product = products.get(product_id)
        if product is None:
            errors.append(DomainError(ErrorCode.PRODUCT_NOT_FOUND, "A product is gone"))
        elif not product.is_active:
            errors.append(
                DomainError(ErrorCode.PRODUCT_INACTIVE, f"{product.name} is no longer sold")
            )
        elif quantity > product.inventory:
            left = f"only {product.inventory} left" if product.inventory else "out of stock"
            errors.append(
                DomainError(
                    ErrorCode.INSUFFICIENT_STOCK,
                    f"{product.name} is {left} (your cart has {quantity})",
                )
            )
    return errors


async def _place_order(
    tx: AfterCommit,
    *,
    user_id: int,
    key: str,
    cart: CartRows,
    credits: Credits,
    rewards: RewardTable,
    currency: str,
) -> Order:
    if not cart:
        raise DomainError(ErrorCode.CART_EMPTY, "Your cart is empty")
    # Ids ascending: every checkout locks in the same order, so none waits on another in a
    # cycle. On SQLite the transaction already holds the database's write lock.
    locked = await (
        Product.filter(id__in=[p for _, p, _ in cart]).order_by("id").select_for_update(no_key=True)
    )
    products = {p.id: p for p in locked}
    errors = _line_errors(cart, products)
    if errors:
        raise DomainErrors(errors)

    total = Money(Decimal("0.00"), currency)
    for _, product_id, quantity in cart:
        product = products[product_id]
        # The guard cannot fail under the lock; it keeps the statement safe on its own.
        changed = await Product.filter(id=product_id, inventory__gte=quantity).update(
            inventory=F("inventory") - quantity
        )
        if changed != 1:
            raise RuntimeError(f"stock of product {product_id} changed under its row lock")
        total = total + Money(product.price, product.currency).times(quantity)
        tx.after_commit(events.inventory_changed, product_id, product.inventory - quantity)

    order = await Order.create(
        user_id=user_id,
        status=OrderStatus.PENDING,
        total=total.amount,
        currency=total.currency,
        idempotency_key=key,
        cart_fingerprint=cart_fingerprint((p, q) for _, p, q in cart),
    )
    await OrderItem.bulk_create(
        [
            OrderItem(
                order_id=order.id,
                product_id=product_id,
                quantity=quantity,
                unit_price=products[product_id].price,
                currency=products[product_id].currency,
                product_name=products[product_id].name,
            )
            for _, product_id, quantity in cart
        ]
    )
    # Exactly the lines that were priced; a line added meanwhile would have waited on the lock.
    await CartItem.filter(id__in=[item_id for item_id, _, _ in cart]).delete()
    # A line added from a recommendation credits its purchase to that decision.
    targets = await credited_targets([(credits[i], p) for i, p, _ in cart if i in credits])
    for item_id, product_id, quantity in cart:
        target = targets.get((credits[item_id], product_id)) if item_id in credits else None
        await store_interaction(
            rewards=rewards,
            product_id=product_id,
            action=InteractionAction.PURCHASE,
            user_id=user_id,
            context={
                "orderId": order.id,
                "quantity": quantity,
                **(target.as_context() if target else {}),
            },
            attributed_to=target,
        )
    tx.after_commit(events.order_status_changed, order, previous=None)
    return order
