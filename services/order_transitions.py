"""The order state machine: the one place that knows which status may follow which.

    PENDING ──► CONFIRMED ──► SHIPPED ──► DELIVERED
       │            │
       └────────────┴──► CANCELLED   (stock goes back)

Admins move orders along any allowed edge (`update_order_status`); shoppers may only cancel
their own order (`cancel_order`), and only while it has not shipped. Every transition locks
the order row first, so two concurrent cancellations restock once: the second sees the
order already CANCELLED and is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from tortoise.expressions import F

from core.errors import DomainError, ErrorCode
from core.transactions import AfterCommit, atomic
from models import Order, OrderItem, OrderStatus, Product
from services import events
from services.auth import Viewer

S = OrderStatus
TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = MappingProxyType(
    {
        S.PENDING: frozenset({S.CONFIRMED, S.CANCELLED}),
        S.CONFIRMED: frozenset({S.SHIPPED, S.CANCELLED}),
        S.SHIPPED: frozenset({S.DELIVERED}),
        S.DELIVERED: frozenset(),
        S.CANCELLED: frozenset(),
    }
)


def can_transition(current: OrderStatus, target: OrderStatus) -> bool:
    return target in TRANSITIONS[current]


def _not_found() -> DomainError:
    return DomainError(ErrorCode.ORDER_NOT_FOUND, "No such order", field="id")


async def update_order_status(*, order_id: int, status: OrderStatus, viewer: Viewer) -> Order:
    """Admin: move an order along an allowed edge (cancelling restocks)."""
    viewer.require_admin()
    return await _transition(order_id, status, viewer)


async def cancel_order(*, order_id: int, viewer: Viewer) -> Order:
    """The owner (or an admin) cancels an order that has not shipped; its stock goes back."""
    viewer.require_user()
    return await _transition(order_id, OrderStatus.CANCELLED, viewer)


async def _transition(order_id: int, target: OrderStatus, viewer: Viewer) -> Order:
    async with atomic() as tx:
        order = await Order.filter(id=order_id).select_for_update(no_key=True).first()
        # Someone else's order looks exactly like a missing one.
        if order is None or not viewer.owns(order.user_id):  # type: ignore[attr-defined]
            raise _not_found()
        previous = order.status
        if not can_transition(previous, target):
            raise DomainError(
                ErrorCode.INVALID_TRANSITION,
                f"An order that is {previous.name} cannot become {target.name}",
                field="status",
            )
        if target is OrderStatus.CANCELLED:
            await _restock(tx, order.id)
        order.status = target
        await order.save(update_fields=["status", "updated_at"])
        tx.after_commit(events.order_status_changed, order, previous=previous)
    return order


async def _restock(tx: AfterCommit, order_id: int) -> None:
    """Put every line's quantity back, locking the products in id order like checkout does."""
    quantities: dict[int, int] = {}
    for product_id, quantity in await OrderItem.filter(order_id=order_id).values_list(
        "product_id", "quantity"
    ):
        quantities[product_id] = quantities.get(product_id, 0) + quantity
    locked = await (
        Product.filter(id__in=list(quantities)).order_by("id").select_for_update(no_key=True)
    )
    for product in locked:
        quantity = quantities[product.id]
        await Product.filter(id=product.id).update(inventory=F("inventory") + quantity)
        tx.after_commit(events.inventory_changed, product.id, product.inventory + quantity)
