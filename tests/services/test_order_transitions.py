"""The order state machine: every edge allowed or refused as designed; cancelling restocks."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from core.errors import DomainError, ErrorCode, Forbidden
from models import CartItem, Order, OrderItem, OrderStatus, Product
from services import checkout as checkouts
from services import order_transitions
from services.auth import Viewer
from services.events import INVENTORY, ORDERS
from tests.services.conftest import CURRENCY

S = OrderStatus
# Written out by hand (not read from the module) so that a changed table fails here.
ALLOWED = {
    (S.PENDING, S.CONFIRMED),
    (S.CONFIRMED, S.SHIPPED),
    (S.SHIPPED, S.DELIVERED),
    (S.PENDING, S.CANCELLED),
    (S.CONFIRMED, S.CANCELLED),
}


async def _order(user, product, *, quantity: int = 2, status: S = S.PENDING) -> Order:
    order = await Order.create(
        user_id=user.id, status=status, total=product.price * quantity, currency=CURRENCY,
        idempotency_key=f"k-{status}-{product.id}", cart_fingerprint="-",
    )  # fmt: skip
    await OrderItem.create(
        order_id=order.id, product_id=product.id, quantity=quantity,
        unit_price=product.price, product_name=product.name,
    )  # fmt: skip
    return order


async def test_every_pair_of_statuses(make_user, make_product):
    admin = Viewer(user=await make_user(), is_admin=True)
    owner = await make_user()
    outcomes = {}
    for current, target in itertools.product(S, S):
        product = await make_product(inventory=5)
        order = await _order(owner, product, status=current)
        try:
            await order_transitions.update_order_status(
                order_id=order.id, status=target, viewer=admin
            )
            outcomes[(current, target)] = "OK"
        except DomainError as error:
            outcomes[(current, target)] = error.code.value
        stored = await Order.get(id=order.id)
        allowed = (current, target) in ALLOWED
        assert stored.status is (target if allowed else current)
        restocked = allowed and target is S.CANCELLED
        assert (await Product.get(id=product.id)).inventory == (7 if restocked else 5)
    assert outcomes == {
        pair: "OK" if pair in ALLOWED else "INVALID_TRANSITION" for pair in itertools.product(S, S)
    }


async def test_cancelling_puts_back_exactly_what_was_taken(
    make_user, make_product, rewards, published
):
    user = await make_user()
    boots = await make_product(inventory=10, price="89.99")
    socks = await make_product(inventory=5, price="4.50")
    await CartItem.create(user_id=user.id, product_id=boots.id, quantity=3)
    await CartItem.create(user_id=user.id, product_id=socks.id, quantity=5)
    order = await checkouts.checkout(
        user_id=user.id, idempotency_key="k", rewards=rewards, currency=CURRENCY
    )
    assert order.total == Decimal("292.47")
    await Product.filter(id=socks.id).update(is_active=False)  # withdrawn meanwhile
    published.clear()

    cancelled = await order_transitions.cancel_order(order_id=order.id, viewer=Viewer(user=user))

    assert cancelled.status is S.CANCELLED
    assert (await Product.get(id=boots.id)).inventory == 10
    assert (await Product.get(id=socks.id)).inventory == 5
    stored = await Order.get(id=order.id)
    assert stored.total == Decimal("292.47")  # history is kept
    assert stored.updated_at > stored.created_at
    assert published == [
        (INVENTORY, {"productId": boots.id, "inventory": 10, "inStock": True}),
        (INVENTORY, {"productId": socks.id, "inventory": 5, "inStock": True}),
        (ORDERS, {"orderId": order.id, "userId": user.id, "status": "CANCELLED",
                  "previousStatus": "PENDING", "total": "292.47", "currency": CURRENCY}),
    ]  # fmt: skip


async def test_who_may_cancel(make_user, make_product):
    owner, stranger = await make_user(), await make_user()
    product = await make_product()
    order = await _order(owner, product)
    with pytest.raises(DomainError) as refused:
        await order_transitions.cancel_order(order_id=order.id, viewer=Viewer(user=stranger))
    assert refused.value.code == ErrorCode.ORDER_NOT_FOUND  # exactly like a missing order
    with pytest.raises(DomainError) as missing:
        await order_transitions.cancel_order(order_id=order.id + 99, viewer=Viewer(user=owner))
    assert missing.value.code == ErrorCode.ORDER_NOT_FOUND
    shipped = await _order(owner, await make_product(), status=S.SHIPPED)
    with pytest.raises(DomainError) as too_late:
        await order_transitions.cancel_order(order_id=shipped.id, viewer=Viewer(user=owner))
    assert too_late.value.code == ErrorCode.INVALID_TRANSITION
    with pytest.raises(Forbidden):
        await order_transitions.update_order_status(
            order_id=order.id, status=S.CONFIRMED, viewer=Viewer(user=owner)
        )
    assert (await Order.get(id=order.id)).status is S.PENDING
    admin = Viewer(user=await make_user(), is_admin=True)
    await order_transitions.cancel_order(order_id=order.id, viewer=admin)
    assert (await Order.get(id=order.id)).status is S.CANCELLED
