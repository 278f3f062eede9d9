"""Subscription resolvers: follow a live channel, filter what the viewer may see, yield.

Each yields plain values built from the event payload; nested fields that need the database
go through `info.context.loaders`, which are replaced for every event (a long-lived
subscription must not keep an ever-growing DataLoader cache).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry
from strawberry import relay

from core.errors import DomainError, ErrorCode
from models import ChatMessage, Order
from resolvers.ids import pk_of, product_pk
from resolvers.recommendations import recommendations
from schema.context import Info
from schema.loaders import Loaders
from schema.types.live import InventoryChange
from schema.types.order import OrderType
from schema.types.recommendation import (
    InteractionAction,
    InteractionType,
    RecommendationContextInput,
    RecommendationSlate,
)
from schema.types.sessions import ChatMessageType
from services import chat, events


def _hub():
    hub = events.hub()
    if hub is None:
        raise DomainError(ErrorCode.INTERNAL_SERVER_ERROR, "Live events are not available")
    return hub


async def inventory_changed(
    info: Info, product_id: relay.GlobalID | None = None
) -> AsyncGenerator[InventoryChange, None]:
    wanted = None if product_id is None else product_pk(product_id)
    async with _hub().subscribe(events.INVENTORY) as stream:
        async for event in stream:
            payload = event.payload
            if wanted is not None and payload.get("productId") != wanted:
                continue
            info.context.loaders = Loaders()
            yield InventoryChange(
                product_id=relay.GlobalID("Product", str(payload["productId"])),
                inventory=int(payload["inventory"]),
                in_stock=bool(payload["inStock"]),
            )


async def interaction_recorded(
    info: Info, product_id: relay.GlobalID | None = None
) -> AsyncGenerator[InteractionType, None]:
    viewer = info.context.viewer
    viewer.require_user()
    wanted = None if product_id is None else product_pk(product_id)
    async with _hub().subscribe(events.INTERACTIONS) as stream:
        async for event in stream:
            payload = event.payload
            if not viewer.is_admin and payload.get("userId") != viewer.user_id:
                continue
            if wanted is not None and payload.get("productId") != wanted:
                continue
            info.context.loaders = Loaders()
            yield InteractionType(
                id=strawberry.ID(str(payload["interactionId"])),
                action=InteractionAction(payload["action"]),
                reward=float(payload["reward"]),
                event_id=None,
                created_at=datetime.fromisoformat(payload["createdAt"]),
                product_pk=int(payload["productId"]),
            )


async def recommendations_updated(
    info: Info, first: int = 10, context: RecommendationContextInput | None = None
) -> AsyncGenerator[RecommendationSlate, None]:
    viewer = info.context.viewer
    session_id = context.session_id if context else None
    if viewer.user is None and not session_id:
        viewer.require_user()  # anonymous shoppers must name their session
    runtime = info.context.recommender
    channel = events.learned_channel(user_id=viewer.user_id, session_id=session_id)
    async with runtime.learned.subscribe(channel) as stream:
        async for _event in stream:
            info.context.loaders = Loaders()
            yield await recommendations(info, first, context)


async def order_status_changed(
    info: Info, order_id: relay.GlobalID | None = None
) -> AsyncGenerator[OrderType, None]:
    viewer = info.context.viewer
    viewer.require_user()
    wanted = None if order_id is None else pk_of(
        order_id, "Order", ErrorCode.ORDER_NOT_FOUND, field="orderId"
    )  # fmt: skip
    async with _hub().subscribe(events.ORDERS) as stream:
        async for event in stream:
            payload = event.payload
            if not viewer.owns(payload.get("userId")):
                continue
            if wanted is not None and payload.get("orderId") != wanted:
                continue
            info.context.loaders = Loaders()
            order = await Order.get_or_none(id=payload["orderId"])
            if order is not None:
                yield OrderType.from_model(order)


async def chat_message_added(
    info: Info, session_id: relay.GlobalID
) -> AsyncGenerator[ChatMessageType, None]:
    user = info.context.viewer.require_user()
    pk = pk_of(session_id, "ChatSession", ErrorCode.SESSION_NOT_FOUND, field="sessionId")
    if not await chat.sessions_by_ids([pk], user_id=user.id):
        raise DomainError(
            ErrorCode.SESSION_NOT_FOUND, "No chat session with this id", field="sessionId"
        )
    async with _hub().subscribe(events.chat_channel(pk)) as stream:
        async for event in stream:
            message = await ChatMessage.get_or_none(id=event.payload["messageId"])
            if message is not None:
                yield ChatMessageType.from_model(message)
