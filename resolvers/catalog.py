"""Catalog resolvers: parse GraphQL input, call `services.catalog`, shape the result."""

from __future__ import annotations

from strawberry import relay

from resolvers.ids import row_id
from schema.context import Info
from schema.types.connections import connection, page_request
from schema.types.money import Money
from schema.types.product import (
    PriceRange,
    ProductConnection,
    ProductEdge,
    ProductFacets,
    ProductFilterInput,
    ProductSortInput,
    ProductType,
    SortDirection,
    facet_values,
)
from services import catalog
from services.catalog_query import ProductFilter, SortField


def parse_filter(info: Info, flt: ProductFilterInput | None) -> ProductFilter:
    if flt is None:
        return catalog.build_filter()
    if flt.include_inactive:
        info.context.viewer.require_admin()
    return catalog.build_filter(
        categories=flt.category,
        brands=flt.brand,
        min_price=flt.min_price,
        max_price=flt.max_price,
        in_stock=flt.in_stock,
        ar_enabled=flt.ar_enabled,
        search=flt.search,
        include_inactive=bool(flt.include_inactive),
    )


async def products(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    filter: ProductFilterInput | None = None,
    sort: ProductSortInput | None = None,
) -> ProductConnection:
    page = page_request(info, first=first, after=after, last=last, before=before)
    flt = parse_filter(info, filter)
    order = catalog.build_sort(
        flt,
        None if sort is None else SortField(sort.field.value),
        None if sort is None or sort.direction is None else sort.direction is SortDirection.DESC,
    )
    result = await catalog.list_products(flt, order, page)
    return connection(ProductConnection, ProductEdge, result, ProductType.from_model, filter=flt)


async def product(info: Info, id: relay.GlobalID) -> ProductType | None:
    pk = row_id(id, "Product")
    if pk is None:
        return None
    found = await info.context.loaders.product_by_id.load(pk)
    return None if found is None else ProductType.from_model(found)


async def facets(info: Info, filter: ProductFilterInput | None = None) -> ProductFacets:
    flt = parse_filter(info, filter)
    result = await catalog.facets(flt)
    currency = info.context.settings.currency
    price_range = None
    if result.min_price is not None and result.max_price is not None:
        price_range = PriceRange(
            min=Money(amount=result.min_price, currency=currency),
            max=Money(amount=result.max_price, currency=currency),
        )
    return ProductFacets(
        categories=facet_values(result.categories),
        brands=facet_values(result.brands),
        price_range=price_range,
        total_count=result.total_count,
    )
