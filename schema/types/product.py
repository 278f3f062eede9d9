from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from enum import Enum

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from models import Product
from schema.context import Info
from schema.types.money import Money
from schema.types.nodes import nodes_in_order
from services import catalog
from services.catalog_query import ProductFilter, SortField


@strawberry.type(description="How shoppers engaged with a product, all time.")
class ProductStats:
    views: int
    ticks: int
    crosses: int
    cart_adds: int
    purchases: int
    ar_views: int

    @classmethod
    def from_counts(cls, counts: dict[str, int]) -> ProductStats:
        return cls(
            views=counts.get("view", 0),
            ticks=counts.get("tick", 0),
            crosses=counts.get("cross", 0),
            cart_adds=counts.get("cart_add", 0),
            purchases=counts.get("purchase", 0),
            ar_views=counts.get("ar_view", 0),
        )


@strawberry.type(name="Product", description="An item in the catalog.")
class ProductType(relay.Node):
    id: relay.NodeID[int]
    name: str
    description: str
    price: Money
    category: str
    brand: str
    image_url: str | None = strawberry.field(
        description="Main image; relative URLs are relative to the API origin."
    )
    images: list[str]
    features: JSON = strawberry.field(description="Free-form attributes, e.g. colour.")
    inventory: int = strawberry.field(description="Units in stock.")
    in_stock: bool
    is_active: bool = strawberry.field(description="False once the product is withdrawn.")
    has_3d_model: bool = strawberry.field(name="has3DModel")
    model_url: str | None
    ar_enabled: bool
    popularity: float = strawberry.field(description="Engagement score used for sorting.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_model(cls, p: Product) -> ProductType:
        return cls(
            id=p.id,
            name=p.name,
            description=p.description,
            price=Money(amount=p.price, currency=p.currency),
            category=p.category,
            brand=p.brand,
            image_url=p.image_url,
            images=p.images,
            features=p.features,
            inventory=p.inventory,
            in_stock=p.inventory > 0,
            is_active=p.is_active,
            has_3d_model=p.has_3d_model,
            model_url=p.model_url,
            ar_enabled=p.ar_enabled,
            popularity=p.popularity,
            created_at=p.created_at,
            updated_at=p.updated_at,
        )

    @strawberry.field(description="Interaction counts, batched across the whole response.")
    async def stats(self, info: Info) -> ProductStats:
        return ProductStats.from_counts(
            await info.context.loaders.action_counts_by_product.load(self.id)
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[ProductType | None]:
        return await nodes_in_order(
            node_ids, info.context.loaders.product_by_id.load_many, cls.from_model
        )


@strawberry.type(description="An edge in a product list.")
class ProductEdge(relay.Edge[ProductType]):
    pass


@strawberry.type(description="A page of products with keyset cursors.")
class ProductConnection(relay.Connection[ProductType]):
    edges: list[ProductEdge]
    filter: strawberry.Private[ProductFilter]

    @strawberry.field(description="Number of products matching the filter (all pages).")
    async def total_count(self) -> int:
        return await catalog.count_products(self.filter)


@strawberry.enum(description="What to order products by.")
class ProductSortField(Enum):
    PRICE = SortField.PRICE.value
    NAME = SortField.NAME.value
    NEWEST = SortField.NEWEST.value
    POPULARITY = SortField.POPULARITY.value
    RELEVANCE = strawberry.enum_value(
        SortField.RELEVANCE.value, description="Text-search rank; needs `filter.search`."
    )


@strawberry.enum
class SortDirection(Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.input(name="ProductFilter", description="Narrow the catalog. All conditions must hold.")
class ProductFilterInput:
    category: list[str] | None = strawberry.field(
        default=None, description="Any of these categories (a single string also works)."
    )
    brand: list[str] | None = strawberry.field(default=None, description="Any of these brands.")
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    in_stock: bool | None = None
    ar_enabled: bool | None = None
    search: str | None = strawberry.field(
        default=None,
        description="Words to match in name, brand, category and description (prefixes match).",
    )
    include_inactive: bool | None = strawberry.field(
        default=None, description="Admins only: also list withdrawn products."
    )


@strawberry.input(
    name="ProductSort",
    description="Sort order. The default is RELEVANCE for searches, else NEWEST.",
)
class ProductSortInput:
    field: ProductSortField
    direction: SortDirection | None = strawberry.field(
        default=None,
        description="Default DESC for NEWEST, POPULARITY and RELEVANCE, ASC otherwise.",
    )


@strawberry.type(description="A facet value and how many products carry it.")
class FacetValue:
    value: str
    count: int


@strawberry.type
class PriceRange:
    min: Money
    max: Money


@strawberry.type(
    description="Counts for narrowing a product list. Each dimension is counted with the "
    "other dimensions of the filter applied, so sibling values stay visible."
)
class ProductFacets:
    categories: list[FacetValue]
    brands: list[FacetValue]
    price_range: PriceRange | None
    total_count: int


def facet_values(pairs: list[tuple[str, int]]) -> list[FacetValue]:
    return [FacetValue(value=v, count=n) for v, n in pairs]
