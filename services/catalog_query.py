"""SQL for catalog listing, search and facets, written once for PostgreSQL and SQLite.

Tortoise's query builder cannot express what the catalog needs (row-value keyset
comparisons, tsvector ranking, numeric ordering of SQLite's text decimals), so this module
builds parameterised SQL itself. User input only ever travels as bound parameters; the only
text spliced into SQL comes from the fixed tables below.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from tortoise import connections

from core.sql import SqlBuilder, on_postgres
from models import Product
from models.row_loader import row_loader

PRODUCT_COLUMNS = tuple(Product._meta.db_fields)
SEARCH_TERM_LIMIT = 8
_WORD = re.compile(r"\w+", re.UNICODE)


class SortField(StrEnum):
    PRICE = "price"
    NAME = "name"
    NEWEST = "newest"
    POPULARITY = "popularity"
    RELEVANCE = "relevance"


@dataclass(frozen=True, slots=True)
class ProductFilter:
    """What the shopper narrowed the catalog to. Empty tuples and None mean "any"."""

    categories: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    in_stock: bool | None = None
    ar_enabled: bool | None = None
    search: str | None = None
    include_inactive: bool = False

    def search_terms(self) -> list[str]:
        if not self.search:
            return []
        return [t.lower() for t in _WORD.findall(self.search)][:SEARCH_TERM_LIMIT]


@dataclass(frozen=True, slots=True)
class ProductSort:
    field: SortField
    descending: bool

    @property
    def token(self) -> str:
        """Stable name of this ordering, stored in cursors."""
        return f"{self.field.value}:{'desc' if self.descending else 'asc'}"


def _sort_key_sql(sort_field: SortField, postgres: bool, sb: SqlBuilder, terms: list[str]) -> str:
    if sort_field is SortField.PRICE:
        # SQLite keeps Decimal as text; order numerically (exact enough for ordering cents).
        return "price" if postgres else "CAST(price AS REAL)"
    if sort_field is SortField.NAME:
        return "name"
    if sort_field is SortField.NEWEST:
        return "created_at"
    if sort_field is SortField.POPULARITY:
        return "popularity"
    return _rank_sql(postgres, sb, terms)


def _tsquery(terms: list[str]) -> str:
    # Terms are \w+ only, so this string cannot carry tsquery operators; `:*` adds prefix
    # matching, so "sneak" finds "sneakers".
    return " & ".join(f"{t}:*" for t in terms)


def _rank_sql(postgres: bool, sb: SqlBuilder, terms: list[str]) -> str:
    if not terms:
        return "0.0"
    if postgres:
        return (
            f"ts_rank_cd(search_vector, to_tsquery('english', {sb.param(_tsquery(terms))}))::float8"
        )
    parts = []
    for term in terms:
        like = sb.param(f"%{_escape_like(term)}%")
        like2 = sb.param(f"%{_escape_like(term)}%")
        like3 = sb.param(f"%{_escape_like(term)}%")
        parts.append(
            f"(3 * (lower(name) LIKE {like} ESCAPE '\\') "
            f"+ 2 * ((lower(brand) || ' ' || lower(category)) LIKE {like2} ESCAPE '\\') "
            f"+ (lower(description) LIKE {like3} ESCAPE '\\'))"
        )
    return "CAST((" + " + ".join(parts) + ") AS REAL)"


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def where_sql(
    flt: ProductFilter,
    sb: SqlBuilder,
    *,
    skip: frozenset[str] = frozenset(),
) -> str:
    """The WHERE clause for a filter; `skip` leaves out dimensions (for disjunctive facets)."""
    clauses: list[str] = []
    if not flt.include_inactive:
        clauses.append("is_active = " + sb.param(True))
    if flt.categories and "category" not in skip:
        clauses.append(f"category IN ({', '.join(sb.param(c) for c in flt.categories)})")
    if flt.brands and "brand" not in skip:
        clauses.append(f"brand IN ({', '.join(sb.param(b) for b in flt.brands)})")
    if "price" not in skip:
        price = "price" if sb.postgres else "CAST(price AS REAL)"
        for bound, op in ((flt.min_price, ">="), (flt.max_price, "<=")):
            if bound is not None:
                value = bound if sb.postgres else float(bound)
                clauses.append(f"{price} {op} {sb.param(value, '::numeric')}")
    if flt.in_stock is not None:
        clauses.append("inventory > 0" if flt.in_stock else "inventory = 0")
    if flt.ar_enabled is not None:
        clauses.append("ar_enabled = " + sb.param(flt.ar_enabled))
    terms = flt.search_terms()
    if flt.search is not None:
        if not terms:
            clauses.append("1 = 0")  # a search with no searchable words matches nothing
        elif sb.postgres:
            clauses.append(f"search_vector @@ to_tsquery('english', {sb.param(_tsquery(terms))})")
        else:
            for term in terms:
                like = sb.param(f"%{_escape_like(term)}%")
                clauses.append(
                    "(lower(name) || ' ' || lower(brand) || ' ' || lower(category) || ' ' || "
                    f"lower(description)) LIKE {like} ESCAPE '\\'"
                )
    return " AND ".join(clauses) if clauses else "1 = 1"


def check_cursor_key(sort_field: SortField, key: Any) -> None:
    """Raise ValueError unless `key` is a sort key `cursor_key` can have issued for this
    ordering (cursors are not signed: a forged key must not reach the SQL bind)."""
    if sort_field is SortField.PRICE:
        valid = isinstance(key, str) and _is_finite_decimal(key)
    elif sort_field is SortField.NEWEST:
        valid = isinstance(key, str) and _is_datetime(key)
    elif sort_field in (SortField.POPULARITY, SortField.RELEVANCE):
        valid = isinstance(key, int | float) and not isinstance(key, bool) and math.isfinite(key)
    else:
        valid = isinstance(key, str)
    if not valid or (isinstance(key, str) and "\x00" in key):
        raise ValueError(f"not a {sort_field.value} sort key")


def _is_finite_decimal(text: str) -> bool:
    try:
        return Decimal(text).is_finite()
    except ArithmeticError:  # decimal.InvalidOperation
        return False


def _is_datetime(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _cursor_param(sort_field: SortField, key: Any, sb: SqlBuilder) -> str:
    """Bind a cursor's sort key with the type the key expression compares against."""
    if sort_field is SortField.PRICE:
        return sb.param(Decimal(str(key)) if sb.postgres else float(key), "::numeric")
    if sort_field is SortField.NEWEST:
        return sb.param(datetime.fromisoformat(key) if sb.postgres else key)
    if sort_field in (SortField.POPULARITY, SortField.RELEVANCE):
        return sb.param(float(key), "::float8")
    return sb.param(str(key))


def cursor_key(sort_field: SortField, row: dict[str, Any]) -> Any:
    """The JSON-safe sort key of a raw row, as stored in its cursor."""
    return cursor_key_reader(sort_field)(row)


def cursor_key_reader(sort_field: SortField) -> Callable[[dict[str, Any]], Any]:
    """`cursor_key` for one sort field, resolved once for a whole page of rows."""
    if sort_field is SortField.RELEVANCE:
        return lambda row: float(row["_rank"])
    column = {"newest": "created_at"}.get(sort_field.value, sort_field.value)

    def key(row: dict[str, Any]) -> Any:
        value = row[column]
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, datetime):
            return value.isoformat()
        return value

    return key


async def fetch_product_rows(
    flt: ProductFilter,
    sort: ProductSort,
    *,
    limit: int,
    forward: bool,
    after_key: tuple[Any, int] | None,
    before_key: tuple[Any, int] | None,
) -> list[dict[str, Any]]:
    """Rows of one keyset page in query order (reversed when paging backwards)."""
    postgres = on_postgres()
    sb = SqlBuilder(postgres)
    terms = flt.search_terms()
    key = _sort_key_sql(sort.field, postgres, sb, terms)
    select = ", ".join(f'"{c}"' for c in PRODUCT_COLUMNS) + f", {key} AS _rank"
    where = [where_sql(flt, sb)]
    descending = sort.descending if forward else not sort.descending
    for bound, is_after in ((after_key, True), (before_key, False)):
        if bound is None:
            continue
        # `after` continues in the sort direction and `before` goes against it.
        greater = (is_after and not sort.descending) or (not is_after and sort.descending)
        op = ">" if greater else "<"
        key_sql = _sort_key_sql(sort.field, postgres, sb, terms)
        where.append(
            f"({key_sql}, id) {op} ({_cursor_param(sort.field, bound[0], sb)}, "
            f"{sb.param(bound[1])})"
        )
    direction = "DESC" if descending else "ASC"
    sql = (
        f"SELECT {select} FROM products WHERE {' AND '.join(where)} "
        f"ORDER BY _rank {direction}, id {direction} LIMIT {sb.param(limit)}"
    )
    return await connections.get("default").execute_query_dict(sql, sb.params)


async def count_products(flt: ProductFilter) -> int:
    sb = SqlBuilder(on_postgres())
    rows = await connections.get("default").execute_query_dict(
        f"SELECT COUNT(*) AS n FROM products WHERE {where_sql(flt, sb)}", sb.params
    )
    return int(rows[0]["n"])


async def facet_counts(flt: ProductFilter, column: str) -> list[tuple[str, int]]:
    """Counts per value of `column` under the filter without its own dimension."""
    assert column in ("category", "brand")
    sb = SqlBuilder(on_postgres())
    sql = (
        f"SELECT {column} AS value, COUNT(*) AS n FROM products "
        f"WHERE {where_sql(flt, sb, skip=frozenset({column}))} "
        f"GROUP BY {column} ORDER BY n DESC, {column} ASC"
    )
    rows = await connections.get("default").execute_query_dict(sql, sb.params)
    return [(r["value"], int(r["n"])) for r in rows]


async def price_bounds(flt: ProductFilter) -> tuple[Decimal | None, Decimal | None]:
    """Exact cheapest and dearest price under the filter without its price bounds."""
    postgres = on_postgres()
    sb = SqlBuilder(postgres)
    where = where_sql(flt, sb, skip=frozenset({"price"}))
    if postgres:
        sql = f"SELECT MIN(price) AS lo, MAX(price) AS hi FROM products WHERE {where}"
    else:
        # MIN/MAX over text would compare lexically; pick the rows by numeric order instead.
        order = "CAST(price AS REAL)"
        sql = (
            f"SELECT (SELECT price FROM products WHERE {where} ORDER BY {order} ASC LIMIT 1) AS lo,"
            f" (SELECT price FROM products WHERE {where} ORDER BY {order} DESC LIMIT 1) AS hi"
        )
        sb.params = sb.params + sb.params
    rows = await connections.get("default").execute_query_dict(sql, sb.params)
    lo, hi = rows[0]["lo"], rows[0]["hi"]
    return (
        None if lo is None else Decimal(str(lo)),
        None if hi is None else Decimal(str(hi)),
    )


_load_product = row_loader(Product)


def row_to_product(row: dict[str, Any]) -> Product:
    # Extra keys (`_rank`) are ignored, as by Tortoise's own row loader.
    return _load_product(row)
