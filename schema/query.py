"""Root Query: composed from one class per domain."""

from __future__ import annotations

import strawberry
from strawberry import relay

from resolvers import cart as cart_resolvers
from resolvers import catalog, node, recommendations, sessions, users
from resolvers import orders as order_resolvers
from schema.context import Info
from schema.permissions import IsAdmin, IsAuthenticated
from schema.types.analytics import Analytics
from schema.types.cart import Cart
from schema.types.order import OrderConnection, OrderType
from schema.types.product import ProductConnection, ProductFacets, ProductType
from schema.types.recommendation import RecommendationSlate
from schema.types.sessions import ChatSessionConnection
from schema.types.user import UserConnection, UserType
from schema.writes import WRITING_FIELD


@strawberry.type
class CatalogQuery:
    products: ProductConnection = strawberry.field(
        resolver=catalog.products,
        description=(
            "Browse and search the catalog. Keyset-paginated (`first`/`after` forwards, "
            "`last`/`before` backwards); at most 100 per page."
        ),
    )
    product: ProductType | None = strawberry.field(
        resolver=catalog.product, description="A product by id, also when withdrawn."
    )
    facets: ProductFacets = strawberry.field(
        resolver=catalog.facets, description="Category and brand counts and price range."
    )


@strawberry.type
class RecommendationQuery:
    recommendations: RecommendationSlate = strawberry.field(
        resolver=recommendations.recommendations,
        metadata=WRITING_FIELD,
        description=(
            "A personalised slate (anonymous shoppers: pass `context.sessionId`). Every slate "
            "is logged with its propensities; send its `eventId` with `recordInteraction`."
        ),
    )


@strawberry.type
class AnalyticsQuery:
    @strawberry.field(permission_classes=[IsAdmin], description="Admin: shop analytics.")
    def analytics(self, info: Info) -> Analytics:
        return Analytics(currency=info.context.settings.currency)


@strawberry.type
class UserQuery:
    me: UserType | None = strawberry.field(
        resolver=users.me, description="The signed-in user; null when anonymous."
    )
    users: UserConnection = strawberry.field(
        resolver=users.users_list,
        permission_classes=[IsAdmin],
        description="Admin: accounts, newest first; `search` matches e-mail or name.",
    )


@strawberry.type
class CartQuery:
    cart: Cart = strawberry.field(
        resolver=cart_resolvers.cart,
        permission_classes=[IsAuthenticated],
        description="The signed-in shopper's cart.",
    )


@strawberry.type
class OrderQuery:
    orders: OrderConnection = strawberry.field(
        resolver=order_resolvers.orders,
        permission_classes=[IsAuthenticated],
        description=(
            "Orders, newest first (`first`/`after`, at most 100 per page). Shoppers see their "
            "own; admins see everyone's and may filter by `userId`."
        ),
    )
    order: OrderType | None = strawberry.field(
        resolver=order_resolvers.order,
        description="An order of the signed-in shopper (any order for admins); else null.",
    )


@strawberry.type
class SessionQuery:
    chat_sessions: ChatSessionConnection = strawberry.field(
        resolver=sessions.chat_sessions,
        permission_classes=[IsAuthenticated],
        description="The signed-in shopper's chat sessions, most recently active first.",
    )


@strawberry.type
class Query(
    CatalogQuery,
    RecommendationQuery,
    UserQuery,
    CartQuery,
    OrderQuery,
    SessionQuery,
    AnalyticsQuery,
):
    node: relay.Node | None = strawberry.field(
        resolver=node.node, description="Fetch any object by its global id."
    )
