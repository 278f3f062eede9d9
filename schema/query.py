"""Root Query: composed from one class per domain."""

from __future__ import annotations

import strawberry
from strawberry import relay

from resolvers import catalog, node, recommendations, users
from schema.permissions import IsAdmin
from schema.types.product import ProductConnection, ProductFacets, ProductType
from schema.types.recommendation import RecommendationSlate
from schema.types.user import UserConnection, UserType


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
        resolver=recommendations.recommendations_query,
        description=(
            "A personalised slate (anonymous shoppers: pass `context.sessionId`). Every slate "
            "is logged with its propensities; send its `eventId` with `recordInteraction`."
        ),
    )


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
class Query(CatalogQuery, RecommendationQuery, UserQuery):
    node: relay.Node | None = strawberry.field(
        resolver=node.node, description="Fetch any object by its global id."
    )
