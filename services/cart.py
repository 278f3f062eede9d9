"""The shopper's cart: one line per product, quantities checked against limits and stock.

The cart reserves nothing: stock is checked when a line is added or changed (so the shopper
hears early) and again, under row locks, at checkout (which is what counts).

Concurrency: every change to a cart -- and checkout -- first locks the owner's `users` row
(`lock_cart`), so changes to one cart run one at a time while different shoppers never wait
for each other. The lock is `FOR NO KEY UPDATE`, which does not block the foreign-key checks
of rows that reference the user (orders, interactions) from other transactions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from tortoise import connections

from core.errors import DomainError, ErrorCode
from core.money import Money
from core.sql import lock_row
from core.transactions import atomic
from models import CartItem, Product
from models.interaction import InteractionAction
from services.interactions import store_interaction
from services.recommendations.rewards import RewardTable, RewardTarget

MAX_LINE_QUANTITY = 99
MAX_CART_LINES = 100


@dataclass(frozen=True, slots=True)
class CartLine:
    product: Product
    quantity: int

    @property
    def unit_price(self) -> Money:
        return Money(self.product.price, self.product.currency)

    @property
    def line_total(self) -> Money:
        return self.unit_price.times(self.quantity)


@dataclass(frozen=True, slots=True)
class Cart:
    lines: list[CartLine]
    currency: str

    @property
    def subtotal(self) -> Money:
        total = Money(Decimal("0.00"), self.currency)
        for line in self.lines:
            total = total + line.line_total
        return total

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)


async def lock_cart(user_id: int) -> None:
    """Serialise changes to one shopper's cart (and their checkouts) until the transaction ends.

    On SQLite, transactions are serialised anyway (`core.sqlite_client`).
    """
    await lock_row("users", user_id)


async def get_cart(user_id: int, *, currency: str) -> Cart:
    """The cart with its products, oldest line first, in one query."""
    items = await CartItem.filter(user_id=user_id).select_related("product").order_by("id")
    return Cart(
        lines=[CartLine(product=item.product, quantity=item.quantity) for item in items],
        currency=currency,
    )


def _check_quantity(quantity: int, *, allow_zero: bool) -> None:
    low = 0 if allow_zero else 1
    if not low <= quantity <= MAX_LINE_QUANTITY:
        raise DomainError(
            ErrorCode.INVALID_QUANTITY,
            f"Quantity must be between {low} and {MAX_LINE_QUANTITY}",
            field="quantity",
        )


async def _sellable_product(product_id: int) -> Product:
    product = await Product.get_or_none(id=product_id)
    if product is None:
        raise DomainError(ErrorCode.PRODUCT_NOT_FOUND, "No such product", field="productId")
    if not product.is_active:
        raise DomainError(
            ErrorCode.PRODUCT_INACTIVE,
            f"{product.name} is no longer sold",
            field="productId",
        )
    return product


def _check_stock(product: Product, quantity: int) -> None:
    if quantity > product.inventory:
        left = f"only {product.inventory} left" if product.inventory else "out of stock"
        raise DomainError(
            ErrorCode.INSUFFICIENT_STOCK,
            f"{product.name} is {left} (asked for {quantity})",
            field="quantity",
        )


async def _add_quantity(
    user_id: int, product_id: int, quantity: int, recommendation_event: int | None
) -> int:
    """Insert the line or add to it in one statement; returns the line's new quantity.

    Atomic on its own (the unique (user, product) index arbitrates), so two concurrent adds
    always sum, whatever lock the caller holds. A line remembers the last recommendation it
    was added from (last touch), which its purchase is credited to.
    """
    conn = connections.get("default")
    p = [f"${i}" for i in range(1, 7)] if conn.capabilities.dialect == "postgres" else ["?"] * 6
    # Only placeholders are spliced in; every value is a bound parameter.
    sql = (
        "INSERT INTO cart_items (user_id, product_id, quantity, recommendation_event_id, "  # noqa: S608
        f"created_at, updated_at) VALUES ({', '.join(p)}) "
        "ON CONFLICT (user_id, product_id) DO UPDATE "
        "SET quantity = cart_items.quantity + excluded.quantity, "
        "recommendation_event_id = COALESCE(excluded.recommendation_event_id, "
        "cart_items.recommendation_event_id), updated_at = excluded.updated_at "
        "RETURNING quantity"
    )
    now = datetime.now(UTC)
    rows = await conn.execute_query_dict(
        sql, [user_id, product_id, quantity, recommendation_event, now, now]
    )
    return int(rows[0]["quantity"])


async def add_to_cart(
    *,
    user_id: int,
    product_id: int,
    quantity: int,
    rewards: RewardTable,
    currency: str,
    recommendation: RewardTarget | None = None,
) -> Cart:
    """Add `quantity` units (quantities of the same product add up) and record a cart add,
    credited to `recommendation` when the product was added from a slate."""
    _check_quantity(quantity, allow_zero=False)
    product = await _sellable_product(product_id)
    async with atomic():
        await lock_cart(user_id)
        total = await _add_quantity(
            user_id, product_id, quantity, recommendation.event_pk if recommendation else None
        )
        # Checked after the write, inside the transaction: a failure rolls the add back.
        if total > MAX_LINE_QUANTITY:
            raise DomainError(
                ErrorCode.INVALID_QUANTITY,
                f"At most {MAX_LINE_QUANTITY} of one product per order (you would have {total})",
                field="quantity",
            )
        _check_stock(product, total)
        if total == quantity and await CartItem.filter(user_id=user_id).count() > MAX_CART_LINES:
            raise DomainError(
                ErrorCode.CART_FULL,
                f"A cart holds at most {MAX_CART_LINES} different products",
                field="productId",
            )
        await store_interaction(
            rewards=rewards,
            product_id=product_id,
            action=InteractionAction.CART_ADD,
            user_id=user_id,
            context={
                "quantity": quantity,
                **(recommendation.as_context() if recommendation else {}),
            },
            attributed_to=recommendation,
        )
    return await get_cart(user_id, currency=currency)


async def update_cart_item(*, user_id: int, product_id: int, quantity: int, currency: str) -> Cart:
    """Set a line's quantity; 0 removes it."""
    _check_quantity(quantity, allow_zero=True)
    if quantity == 0:
        return await remove_from_cart(user_id=user_id, product_id=product_id, currency=currency)
    product = await _sellable_product(product_id)
    _check_stock(product, quantity)
    async with atomic():
        await lock_cart(user_id)
        updated = await CartItem.filter(user_id=user_id, product_id=product_id).update(
            quantity=quantity, updated_at=datetime.now(UTC)
        )
        if not updated:
            raise DomainError(
                ErrorCode.CART_ITEM_NOT_FOUND,
                f"{product.name} is not in your cart",
                field="productId",
            )
    return await get_cart(user_id, currency=currency)


async def remove_from_cart(*, user_id: int, product_id: int, currency: str) -> Cart:
    """Remove a line; removing a product that is not in the cart changes nothing."""
    async with atomic():
        await lock_cart(user_id)
        await CartItem.filter(user_id=user_id, product_id=product_id).delete()
    return await get_cart(user_id, currency=currency)


async def clear_cart(*, user_id: int, currency: str) -> Cart:
    async with atomic():
        await lock_cart(user_id)
        await CartItem.filter(user_id=user_id).delete()
    return await get_cart(user_id, currency=currency)
