"""The cart service: upserts that add up, limits, stock checks, and nothing written on errors."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from core.errors import DomainError, ErrorCode
from models import CartItem, UserInteraction
from models.interaction import InteractionAction
from services import cart
from tests.services.conftest import CURRENCY


async def _quantity(user_id: int, product_id: int) -> int | None:
    item = await CartItem.get_or_none(user_id=user_id, product_id=product_id)
    return None if item is None else item.quantity


async def _cart_adds(user_id: int) -> int:
    return await UserInteraction.filter(user_id=user_id, action=InteractionAction.CART_ADD).count()


async def test_adds_of_one_product_sum_up_and_each_records_a_cart_add(
    make_user, make_product, rewards
):
    user, product = await make_user(), await make_product(inventory=10)
    await cart.add_to_cart(
        user_id=user.id, product_id=product.id, quantity=2, rewards=rewards, currency=CURRENCY
    )
    result = await cart.add_to_cart(
        user_id=user.id, product_id=product.id, quantity=3, rewards=rewards, currency=CURRENCY
    )
    assert [(line.product.id, line.quantity) for line in result.lines] == [(product.id, 5)]
    assert await _cart_adds(user.id) == 2


async def test_concurrent_adds_all_count(make_user, make_product, rewards):
    user, product = await make_user(), await make_product(inventory=50)
    await asyncio.gather(
        *(
            cart.add_to_cart(
                user_id=user.id, product_id=product.id, quantity=1, rewards=rewards,
                currency=CURRENCY,
            )
            for _ in range(20)
        )
    )  # fmt: skip
    assert await _quantity(user.id, product.id) == 20
    assert await CartItem.filter(user_id=user.id).count() == 1
    assert await _cart_adds(user.id) == 20


async def test_subtotal_is_exact_to_the_cent(make_user, make_product, rewards):
    user = await make_user()
    dime = await make_product(price="0.10")
    other = await make_product(price="19.99")
    await cart.add_to_cart(
        user_id=user.id, product_id=dime.id, quantity=3, rewards=rewards, currency=CURRENCY
    )
    result = await cart.add_to_cart(
        user_id=user.id, product_id=other.id, quantity=1, rewards=rewards, currency=CURRENCY
    )
    assert result.subtotal.amount == Decimal("20.29")
    assert str(result.subtotal.amount) == "20.29"
    assert [str(line.line_total.amount) for line in result.lines] == ["0.30", "19.99"]
    assert result.item_count == 4


@pytest.mark.parametrize(
    ("setup", "quantity", "inventory", "code"),
    [
        (0, 0, 10, ErrorCode.INVALID_QUANTITY),
        (0, -1, 10, ErrorCode.INVALID_QUANTITY),
        (0, 100, 200, ErrorCode.INVALID_QUANTITY),
        (60, 40, 200, ErrorCode.INVALID_QUANTITY),  # 100 in the line: over the per-line limit
        (2, 2, 3, ErrorCode.INSUFFICIENT_STOCK),  # 4 in the line, 3 in stock
        (0, 1, 0, ErrorCode.INSUFFICIENT_STOCK),
    ],
)
async def test_refused_adds_change_nothing(
    make_user, make_product, rewards, setup, quantity, inventory, code
):
    user, product = await make_user(), await make_product(inventory=inventory)
    if setup:
        await CartItem.create(user_id=user.id, product_id=product.id, quantity=setup)
    with pytest.raises(DomainError) as refused:
        await cart.add_to_cart(
            user_id=user.id, product_id=product.id, quantity=quantity, rewards=rewards,
            currency=CURRENCY,
        )  # fmt: skip
    assert refused.value.code == code
    assert await _quantity(user.id, product.id) == (setup or None)
    assert await _cart_adds(user.id) == 0


async def test_missing_and_withdrawn_products_are_refused(make_user, make_product, rewards):
    user = await make_user()
    withdrawn = await make_product(is_active=False)
    for product_id, code in ((withdrawn.id, ErrorCode.PRODUCT_INACTIVE),
                             (withdrawn.id + 1000, ErrorCode.PRODUCT_NOT_FOUND)):  # fmt: skip
        with pytest.raises(DomainError) as refused:
            await cart.add_to_cart(
                user_id=user.id, product_id=product_id, quantity=1, rewards=rewards,
                currency=CURRENCY,
            )  # fmt: skip
        assert refused.value.code == code
    assert await CartItem.filter(user_id=user.id).count() == 0


async def test_a_full_cart_refuses_new_products_but_not_more_of_one(
    make_user, make_product, rewards, monkeypatch
):
    monkeypatch.setattr(cart, "MAX_CART_LINES", 2)
    user = await make_user()
    first, second, third = [await make_product() for _ in range(3)]
    for product in (first, second):
        await cart.add_to_cart(
            user_id=user.id, product_id=product.id, quantity=1, rewards=rewards, currency=CURRENCY
        )
    with pytest.raises(DomainError) as refused:
        await cart.add_to_cart(
            user_id=user.id, product_id=third.id, quantity=1, rewards=rewards, currency=CURRENCY
        )
    assert refused.value.code == ErrorCode.CART_FULL
    await cart.add_to_cart(
        user_id=user.id, product_id=first.id, quantity=1, rewards=rewards, currency=CURRENCY
    )
    assert await CartItem.filter(user_id=user.id).count() == 2
    assert await _quantity(user.id, first.id) == 2


async def test_update_sets_the_quantity_and_zero_removes(make_user, make_product):
    user, product = await make_user(), await make_product(inventory=5)
    await CartItem.create(user_id=user.id, product_id=product.id, quantity=1)
    await cart.update_cart_item(
        user_id=user.id, product_id=product.id, quantity=4, currency=CURRENCY
    )
    assert await _quantity(user.id, product.id) == 4
    for quantity, code in ((6, ErrorCode.INSUFFICIENT_STOCK), (100, ErrorCode.INVALID_QUANTITY),
                           (-1, ErrorCode.INVALID_QUANTITY)):  # fmt: skip
        with pytest.raises(DomainError) as refused:
            await cart.update_cart_item(
                user_id=user.id, product_id=product.id, quantity=quantity, currency=CURRENCY
            )
        assert refused.value.code == code
    assert await _quantity(user.id, product.id) == 4
    result = await cart.update_cart_item(
        user_id=user.id, product_id=product.id, quantity=0, currency=CURRENCY
    )
    assert result.lines == [] and await _quantity(user.id, product.id) is None


async def test_update_of_a_product_not_in_the_cart_is_refused(make_user, make_product):
    user, product = await make_user(), await make_product()
    with pytest.raises(DomainError) as refused:
        await cart.update_cart_item(
            user_id=user.id, product_id=product.id, quantity=2, currency=CURRENCY
        )
    assert refused.value.code == ErrorCode.CART_ITEM_NOT_FOUND
    assert await CartItem.filter(user_id=user.id).count() == 0


async def test_remove_and_clear_touch_only_the_owners_cart(make_user, make_product):
    user, other = await make_user(), await make_user()
    first, second = await make_product(), await make_product()
    for owner in (user, other):
        for product in (first, second):
            await CartItem.create(user_id=owner.id, product_id=product.id, quantity=1)
    result = await cart.remove_from_cart(user_id=user.id, product_id=first.id, currency=CURRENCY)
    assert [line.product.id for line in result.lines] == [second.id]
    # Removing what is not there is a no-op, not an error.
    await cart.remove_from_cart(user_id=user.id, product_id=first.id, currency=CURRENCY)
    assert (await cart.clear_cart(user_id=user.id, currency=CURRENCY)).lines == []
    assert await CartItem.filter(user_id=other.id).count() == 2
