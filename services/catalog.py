"""Catalog reads: browsing, search, facets and lookups by id."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from core.errors import DomainError, ErrorCode, InvalidInput
from core.money import parse_amount
from core.pagination import Cursor, Page, PageRequest
from models import Product
from services import catalog_query as q
from services.catalog_query import ProductFilter, ProductSort, SortField

CURSOR_KIND = "product"
MAX_FILTER_VALUES = 50
MAX_FILTER_VALUE_LENGTH = 100
MAX_SEARCH_LENGTH = 200


def build_filter(
    *,
    categories: Iterable[str] | None = None,
    brands: Iterable[str] | None = None,
    min_price: object | None = None,
    max_price: object | None = None,
    in_stock: bool | None = None,
    ar_enabled: bool | None = None,
    search: str | None = None,
    include_inactive: bool = False,
) -> ProductFilter:
    """Validate raw filter input into a `ProductFilter`."""
    cats = _values(categories, "filter.category")
    brs = _values(brands, "filter.brand")
    lo = None if min_price is None else parse_amount(min_price, field="filter.minPrice")
    hi = None if max_price is None else parse_amount(max_price, field="filter.maxPrice")
    if lo is not None and hi is not None and lo > hi:
        raise InvalidInput("`minPrice` must not exceed `maxPrice`", field="filter.minPrice")
    if search is not None:
        search = search.strip()
        if len(search) > MAX_SEARCH_LENGTH:
            raise InvalidInput(
                f"`search` is limited to {MAX_SEARCH_LENGTH} characters", field="filter.search"
            )
        search = search or None
    return ProductFilter(
        categories=cats,
        brands=brs,
        min_price=lo,
        max_price=hi,
        in_stock=in_stock,
        ar_enabled=ar_enabled,
        search=search,
        include_inactive=include_inactive,
    )


def _values(values: Iterable[str] | None, field: str) -> tuple[str, ...]:
    if values is None:
        return ()
    out = tuple(dict.fromkeys(v.strip() for v in values if v.strip()))
    if len(out) > MAX_FILTER_VALUES:
        raise InvalidInput(f"At most {MAX_FILTER_VALUES} values are allowed", field=field)
    if any(len(v) > MAX_FILTER_VALUE_LENGTH for v in out):
        raise InvalidInput(
            f"Values are limited to {MAX_FILTER_VALUE_LENGTH} characters", field=field
        )
    return out


def build_sort(flt: ProductFilter, field: SortField | None, descending: bool | None) -> ProductSort:
    """Default: relevance for searches, newest first otherwise."""
    if field is None:
        field = SortField.RELEVANCE if flt.search else SortField.NEWEST
    if field is SortField.RELEVANCE and not flt.search:
        raise InvalidInput("Sorting by RELEVANCE needs a `search` filter", field="sort.field")
    if descending is None:
        descending = field in (SortField.NEWEST, SortField.POPULARITY, SortField.RELEVANCE)
    return ProductSort(field=field, descending=descending)


async def list_products(flt: ProductFilter, sort: ProductSort, page: PageRequest) -> Page[Product]:
    """One keyset page of products. Cursors stay valid while rows are inserted or deleted."""
    after = _decode(page.after, sort, "after")
    before = _decode(page.before, sort, "before")
    if page.size == 0:
        return Page(items=[], cursors=[], has_next_page=False, has_previous_page=False)
    rows = await q.fetch_product_rows(
        flt,
        sort,
        limit=page.size + 1,
        forward=page.forward,
        after_key=after,
        before_key=before,
    )
    has_more = len(rows) > page.size
    rows = rows[: page.size]
    if not page.forward:
        rows.reverse()
    token, key_of = sort.token, q.cursor_key_reader(sort.field)  # once per page, not per row
    cursors = [Cursor(CURSOR_KIND, token, key_of(r), r["id"]).encode() for r in rows]
    # The far side is only known cheaply from the cursor's presence (Relay permits this).
    return Page(
        items=[q.row_to_product(r) for r in rows],
        cursors=cursors,
        has_next_page=has_more if page.forward else before is not None,
        has_previous_page=after is not None if page.forward else has_more,
    )


def _decode(value: str | None, sort: ProductSort, field: str) -> tuple[object, int] | None:
    if value is None:
        return None
    cursor = Cursor.decode(value, kind=CURSOR_KIND, sort=sort.token, field=field)
    try:
        q.check_cursor_key(sort.field, cursor.key)
    except ValueError as exc:
        raise DomainError(
            ErrorCode.INVALID_CURSOR, f"`{field}` is not a valid cursor", field=field
        ) from exc
    return cursor.key, cursor.id


async def count_products(flt: ProductFilter) -> int:
    return await q.count_products(flt)


@dataclass(frozen=True, slots=True)
class Facets:
    categories: list[tuple[str, int]]
    brands: list[tuple[str, int]]
    min_price: Decimal | None
    max_price: Decimal | None
    total_count: int


async def facets(flt: ProductFilter) -> Facets:
    """Disjunctive facets: each dimension is counted with the other dimensions applied, so a
    shopper who picked one category still sees the counts of the sibling categories."""
    categories = await q.facet_counts(flt, "category")
    brands = await q.facet_counts(flt, "brand")
    lo, hi = await q.price_bounds(flt)
    return Facets(
        categories=categories,
        brands=brands,
        min_price=lo,
        max_price=hi,
        total_count=await q.count_products(flt),
    )


async def products_by_ids(ids: Iterable[int]) -> list[Product]:
    """Products by id, withdrawn ones included (orders and carts still show them)."""
    return await Product.filter(id__in=list(ids))
