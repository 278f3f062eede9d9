"""Root Subscription: live updates over websockets (graphql-transport-ws or graphql-ws)."""

from __future__ import annotations

import strawberry

from resolvers import live
from schema.types.live import InventoryChange
from schema.types.order import OrderType
from schema.types.recommendation import InteractionType, RecommendationSlate
from schema.types.sessions import ChatMessageType
from schema.writes import WRITING_FIELD

# Subscriptions whose results do not depend on who asks: all subscribers with the same
# document and variables share one execution. Everything else is shared per viewer.
PUBLIC_SUBSCRIPTIONS = frozenset({"inventoryChanged"})


@strawberry.type
class CatalogSubscription:
    inventory_changed: InventoryChange = strawberry.subscription(
        resolver=live.inventory_changed,
        description="Stock changes of one product (`productId`) or of every product.",
    )


@strawberry.type
class RecommendationSubscription:
    interaction_recorded: InteractionType = strawberry.subscription(
        resolver=live.interaction_recorded,
        description="Interactions as they are recorded: your own, or everyone's for admins.",
    )
    recommendations_updated: RecommendationSlate = strawberry.subscription(
        resolver=live.recommendations_updated,
        metadata=WRITING_FIELD,
        description=(
            "A fresh slate (new `eventId`) each time the model has learned from one of your "
            "interactions. Anonymous shoppers pass `context.sessionId`."
        ),
    )


@strawberry.type
class OrderSubscription:
    order_status_changed: OrderType = strawberry.subscription(
        resolver=live.order_status_changed,
        description="Status changes of one order (`orderId`) or of all your orders; admins: all.",
    )


@strawberry.type
class SessionSubscription:
    chat_message_added: ChatMessageType = strawberry.subscription(
        resolver=live.chat_message_added,
        description="New messages in one of your chat sessions.",
    )


@strawberry.type
class Subscription(
    CatalogSubscription, RecommendationSubscription, OrderSubscription, SessionSubscription
):
    pass
