"""Catalog resolvers: parse GraphQL input, call `services.catalog`, shape the result."""

from __future__ import annotations

from strawberry import relay

from core.errors import NotFound
from core.pagination import PageRequest
from schema.context import Info
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
    page = PageRequest.from_args(
        first=first,
        after=after,
        last=last,
        before=before,
        max_size=info.context.settings.max_page_size,
    )
    flt = parse_filter(info, filter)
    order = catalog.build_sort(
        flt,
        None if sort is None else SortField(sort.field.value),
        None if sort is None or sort.direction is None else sort.direction is SortDirection.DESC,
    )
    result = await catalog.list_products(flt, order, page)
    return ProductConnection(
        edges=[
            ProductEdge(cursor=cursor, node=ProductType.from_model(item))
            for item, cursor in zip(result.items, result.cursors, strict=True)
        ],
        page_info=relay.PageInfo(
            has_next_page=result.has_next_page,
            has_previous_page=result.has_previous_page,
            start_cursor=result.start_cursor,
            end_cursor=result.end_cursor,
        ),
        filter=flt,
    )


async def product(info: Info, id: relay.GlobalID) -> ProductType | None:
    if id.type_name != "Product" or not id.node_id.isdigit():
        raise NotFound("No product with this id", field="id")
    found = await info.context.loaders.product_by_id.load(int(id.node_id))
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
