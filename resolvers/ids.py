"""Global ids of arguments: the one way from a `GlobalID` to a row id (`core.ids`).

A wrong type or a malformed id names no row: mutations answer the row's not-found error,
queries answer null (like `node`).
"""

from __future__ import annotations

from strawberry import relay

from core.errors import DomainError, ErrorCode
from core.ids import INT32_MAX, parse_row_id


def row_id(gid: relay.GlobalID, type_name: str, *, max_id: int = INT32_MAX) -> int | None:
    """The row id of a `type_name` global id, or None when it names no such row."""
    if gid.type_name != type_name:
        return None
    return parse_row_id(gid.node_id, max_id=max_id)


def pk_of(
    gid: relay.GlobalID, type_name: str, code: ErrorCode, *, field: str, max_id: int = INT32_MAX
) -> int:
    pk = row_id(gid, type_name, max_id=max_id)
    if pk is None:
        raise DomainError(code, f"No {type_name} with this id", field=field)
    return pk


def product_pk(gid: relay.GlobalID, *, field: str = "productId") -> int:
    return pk_of(gid, "Product", ErrorCode.PRODUCT_NOT_FOUND, field=field)
