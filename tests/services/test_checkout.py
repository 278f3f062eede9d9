"""Checkout through the service: exact money, frozen prices, idempotency, nothing written on
failure, events only after the commit."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.errors import DomainError, DomainErrors, ErrorCode, InvalidInput
from models import CartItem, Order, OrderItem, OrderStatus, Product, UserInteraction
from models.interaction import InteractionAction
from services import checkout as checkouts
from services.events import INVENTORY, ORDERS
from tests.services.conftest import CURRENCY


async def _checkout(user, rewards, key: str = "key-1") -> Order:
    return await checkouts.checkout(
        user_id=user.id, idempotency_key=key, rewards=rewards, currency=CURRENCY
    )


async def _fill(user, *lines: tuple[Product, int]) -> None:
    for product, quantity in lines:
        await CartItem.create(user_id=user.id, product_id=product.id, quantity=quantity)


async def _snapshot(user) -> dict:
    """Everything a checkout may write."""
    return {
        "orders": await Order.all().count(),
        "order_items": await OrderItem.all().count(),
        "cart": sorted(
            await CartItem.filter(user_id=user.id).values_list("product_id", "quantity")
        ),
        "stock": sorted(await Product.all().values_list("id", "inventory")),
        "interactions": await UserInteraction.all().count(),
    }


async def test_checkout_places_the_order_at_todays_prices(
    make_user, make_product, rewards, published
):
    user = await make_user()
    dime = await make_product(price="0.10", inventory=5, name="Dime")
    shirt = await make_product(price="19.99", inventory=1, name="Shirt")
    await _fill(user, (dime, 3), (shirt, 1))

    order = await _checkout(user, rewards)

    assert order.status is OrderStatus.PENDING
    assert order.total == Decimal("20.29") and order.currency == CURRENCY
    items = await OrderItem.filter(order_id=order.id).order_by("id")
    assert [(i.product_id, i.quantity, i.unit_price, i.product_name) for i in items] == [
        (dime.id, 3, Decimal("0.10"), "Dime"),
        (shirt.id, 1, Decimal("19.99"), "Shirt"),
    ]
    assert await Product.filter(id=dime.id).values_list("inventory", flat=True) == [2]
    assert await Product.filter(id=shirt.id).values_list("inventory", flat=True) == [0]
    assert await CartItem.filter(user_id=user.id).count() == 0
    purchases = await UserInteraction.filter(action=InteractionAction.PURCHASE).order_by("id")
    assert [(p.product_id, p.context) for p in purchases] == [
        (dime.id, {"orderId": order.id, "quantity": 3}),
        (shirt.id, {"orderId": order.id, "quantity": 1}),
    ]
    assert published == [
        (INVENTORY, {"productId": dime.id, "inventory": 2, "inStock": True}),
        (INVENTORY, {"productId": shirt.id, "inventory": 0, "inStock": False}),
        (ORDERS, {"orderId": order.id, "userId": user.id, "status": "PENDING",
                  "previousStatus": None, "total": "20.29", "currency": CURRENCY}),
    ]  # fmt: skip


async def test_an_order_keeps_its_prices_and_names_when_the_product_changes(
    make_user, make_product, rewards
):
    user = await make_user()
    product = await make_product(price="5.00", name="Old name")
    await _fill(user, (product, 2))
    order = await _checkout(user, rewards)
    await Product.filter(id=product.id).update(price=Decimal("7.50"), name="New name")
    item = await OrderItem.get(order_id=order.id)
    assert (item.unit_price, item.product_name) == (Decimal("5.00"), "Old name")
    assert (await Order.get(id=order.id)).total == Decimal("10.00")


async def test_an_empty_cart_is_refused(make_user, rewards, published):
    user = await make_user()
    with pytest.raises(DomainError) as refused:
        await _checkout(user, rewards)
    assert refused.value.code == ErrorCode.CART_EMPTY
    assert await Order.all().count() == 0 and published == []


async def test_every_unfillable_line_is_reported_and_nothing_is_written(
    make_user, make_product, rewards, published
):
    user = await make_user()
    fine = await make_product(inventory=5, name="Fine")
    scarce = await make_product(inventory=1, name="Scarce")
    withdrawn = await make_product(inventory=5, name="Withdrawn")
    await _fill(user, (fine, 1), (scarce, 2), (withdrawn, 1))
    await Product.filter(id=withdrawn.id).update(is_active=False)  # after it was carted
    before = await _snapshot(user)

    with pytest.raises(DomainErrors) as refused:
        await _checkout(user, rewards)

    assert [(e.code, e.message) for e in refused.value.errors] == [
        (ErrorCode.INSUFFICIENT_STOCK, "Scarce is only 1 left (your cart has 2)"),
        (ErrorCode.PRODUCT_INACTIVE, "Withdrawn is no longer sold"),
    ]
    assert await _snapshot(user) == before
    assert published == []


async def test_a_failed_attempt_does_not_use_up_the_key(make_user, make_product, rewards):
    user, product = await make_user(), await make_product(inventory=1)
    await _fill(user, (product, 2))
    with pytest.raises(DomainErrors):
        await _checkout(user, rewards, key="retry-me")
    await CartItem.filter(user_id=user.id).update(quantity=1)
    order = await _checkout(user, rewards, key="retry-me")
    assert order.total == Decimal("10.00")


async def test_the_same_key_replays_the_order_and_changes_nothing(
    make_user, make_product, rewards, published
):
    user, product = await make_user(), await make_product(inventory=10)
    await _fill(user, (product, 2))
    first = await _checkout(user, rewards)
    published.clear()
    before = await _snapshot(user)

    again = await _checkout(user, rewards)  # a retry: the cart was emptied by the order
    assert again.id == first.id
    await _fill(user, (product, 2))  # the very same cart again, with the same key
    assert (await _checkout(user, rewards)).id == first.id

    assert {**await _snapshot(user), "cart": []} == before
    assert published == []


async def test_a_key_reused_for_a_different_cart_is_refused(make_user, make_product, rewards):
    user, product = await make_user(), await make_product(inventory=10)
    await _fill(user, (product, 2))
    await _checkout(user, rewards)
    await _fill(user, (product, 3))
    before = await _snapshot(user)
    with pytest.raises(DomainError) as refused:
        await _checkout(user, rewards)
    assert refused.value.code == ErrorCode.IDEMPOTENCY_KEY_REUSED
    assert refused.value.field == "idempotencyKey"
    assert await _snapshot(user) == before
    # Another shopper may use the same key: keys are per user.
    other = await make_user()
    await _fill(other, (product, 1))
    assert (await _checkout(other, rewards)).user_id == other.id


@pytest.mark.parametrize("key", ["", " padded", "x" * 201, "line\nbreak"])
async def test_malformed_keys_are_refused(make_user, make_product, rewards, key):
    user, product = await make_user(), await make_product()
    await _fill(user, (product, 1))
    with pytest.raises(InvalidInput):
        await _checkout(user, rewards, key=key)
    assert await Order.all().count() == 0


async def test_a_twin_that_slipped_past_the_lock_is_answered_like_a_replay(
    make_user, make_product, rewards, published, monkeypatch
):
    """The unique (user, key) index is the backstop: the insert fails, the transaction rolls
    back, and the twin's order is returned. Simulated by hiding the twin from the in-lock
    lookup, as if it had committed just after it."""
    user, product = await make_user(), await make_product(inventory=10)
    await _fill(user, (product, 2))
    twin = await Order.create(
        user_id=user.id, total=Decimal("20.00"), currency=CURRENCY, idempotency_key="key-1",
        cart_fingerprint=checkouts.cart_fingerprint([(product.id, 2)]),
    )  # fmt: skip
    real_lookup, hidden = Order.get_or_none, []

    async def miss_once(*args, **kwargs):
        if not hidden:
            hidden.append(True)
            return None
        return await real_lookup(*args, **kwargs)

    monkeypatch.setattr(Order, "get_or_none", miss_once)
    before = await _snapshot(user)

    assert (await _checkout(user, rewards)).id == twin.id
    assert hidden == [True]
    assert await _snapshot(user) == before  # the stock taken inside was rolled back
    assert published == []
