"""Tortoise ORM models: the persistent state of the shop.

Tortoise discovers models by importing this package (app label `shop`); every model module
must be re-exported here. Schema changes go through migrations in `models/migrations/`
(`make migrations` writes one). Model docstrings become SQL table comments and the SQLite
migration editor splits scripts on semicolons, so keep `;` and quotes out of them.
"""

from models.cart import CartItem
from models.document import PersistedDocument
from models.interaction import UserInteraction
from models.order import Order, OrderItem, OrderStatus
from models.product import Product
from models.recommendation import (
    LearnerTerm,
    ModelPromotion,
    ModelSnapshot,
    RecommendationEvent,
    RecommendationReward,
)
from models.sessions import ARSession, ChatMessage, ChatSession
from models.user import User
from models.webhook import ProcessedWebhook

__all__ = [
    "ARSession",
    "CartItem",
    "ChatMessage",
    "ChatSession",
    "LearnerTerm",
    "ModelPromotion",
    "ModelSnapshot",
    "Order",
    "OrderItem",
    "OrderStatus",
    "PersistedDocument",
    "ProcessedWebhook",
    "Product",
    "RecommendationEvent",
    "RecommendationReward",
    "User",
    "UserInteraction",
]
