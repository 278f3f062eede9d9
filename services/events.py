"""Domain events published to live subscribers — always after the database commit.

One channel per kind of event (`<family>:<key>`); subscribers filter by what they may see.
Publishing never fails the caller: the change is committed, and an event lost while the bus
is down is logged and counted by the hub (pub/sub is at-most-once).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from live import EventHub
from models import ChatMessage, Order, OrderStatus

INVENTORY = "inventory:all"
ORDERS = "orders:all"
INTERACTIONS = "interactions:all"
CATALOG = "catalog:all"
ACCOUNTS = "accounts:erased"
DOCUMENTS = "documents:all"
# A reward was logged on a recommendation (after its commit): the learner wakes on it.
REWARDS = "rewards:all"


def chat_channel(session_id: int) -> str:
    return f"chat:{session_id}"


def learned_channel(*, user_id: int | None, session_id: str | None) -> str:
    return f"learned:user:{user_id}" if user_id is not None else f"learned:session:{session_id}"


class _Bus:
    hub: EventHub | None = None


def install(hub: EventHub | None) -> None:
    """Called by the app's lifespan; with no hub (scripts, some tests) events go nowhere."""
    _Bus.hub = hub


def hub() -> EventHub | None:
    return _Bus.hub


async def publish(channel: str, payload: Mapping[str, Any]) -> bool:
    if _Bus.hub is None:
        return False
    return await _Bus.hub.publish(channel, payload)


async def inventory_changed(product_id: int, inventory: int) -> None:
    await publish(
        INVENTORY, {"productId": product_id, "inventory": inventory, "inStock": inventory > 0}
    )


async def interaction_recorded(interaction: Any) -> None:
    await publish(
        INTERACTIONS,
        {
            "interactionId": interaction.id,
            "userId": interaction.user_id,
            "sessionId": interaction.session_id,
            "productId": interaction.product_id,
            "action": str(interaction.action),
            "reward": interaction.reward,
            "createdAt": interaction.created_at,
        },
    )


async def account_erased(user_id: int) -> None:
    """An account was erased: every process closes its open websockets."""
    await publish(ACCOUNTS, {"userId": user_id})


async def catalog_changed(product_id: int) -> None:
    """A product's catalog data changed (cached catalog responses must be dropped)."""
    await publish(CATALOG, {"productId": product_id})


async def documents_added() -> bool:
    """Trusted documents were stored: every process loads the new rows. False when no bus
    took the event (the processes then find the rows when they next poll)."""
    return await publish(DOCUMENTS, {})


async def order_status_changed(order: Order, *, previous: OrderStatus | None) -> None:
    """An order was placed (`previousStatus` null) or moved on. Statuses are the GraphQL enum
    names (`PENDING`, ...), `total` an exact decimal string."""
    await publish(
        ORDERS,
        {
            "orderId": order.id,
            "userId": order.user_id,  # type: ignore[attr-defined]
            "status": order.status.name,
            "previousStatus": None if previous is None else previous.name,
            "total": str(order.total),
            "currency": order.currency,
        },
    )


async def chat_message_added(message: ChatMessage, *, owner_id: int) -> None:
    """A message was posted to a chat session owned by `owner_id`."""
    await publish(
        chat_channel(message.session_id),  # type: ignore[attr-defined]
        {
            "sessionId": message.session_id,  # type: ignore[attr-defined]
            "messageId": message.id,
            "userId": owner_id,
            "role": message.role,
            "body": message.body,
            "createdAt": message.created_at.isoformat(),
        },
    )
