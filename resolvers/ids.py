"""Global ids of mutation arguments: a wrong type or malformed id is the row's not-found."""

from __future__ import annotations

from strawberry import relay

from core.errors import DomainError, ErrorCode


def pk_of(gid: relay.GlobalID, type_name: str, code: ErrorCode, *, field: str) -> int:
    if gid.type_name != type_name or not gid.node_id.isdigit():
        raise DomainError(code, f"No {type_name} with this id", field=field)
    return int(gid.node_id)


def product_pk(gid: relay.GlobalID, *, field: str = "productId") -> int:
    return pk_of(gid, "Product", ErrorCode.PRODUCT_NOT_FOUND, field=field)
