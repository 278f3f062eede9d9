"""Relay-style pagination arguments and opaque keyset cursors, shared by every list.

A cursor is url-safe base64 of JSON `[kind, sort, key, id]`: `kind` names the list (so a
product cursor cannot be replayed against orders), `sort` the ordering it was issued under,
`key` the raw sort-key value of the row and `id` its primary key as tie-breaker.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson

from core.errors import DomainError, ErrorCode, InvalidInput

DEFAULT_PAGE_SIZE = 20
# Cursors are not signed: a forged id beyond a 64-bit integer would fail in the database.
MAX_ROW_ID = 2**63 - 1

T = TypeVar("T")
_URLSAFE = bytes.maketrans(b"+/", b"-_")


@dataclass(frozen=True, slots=True)
class Cursor:
    kind: str
    sort: str
    key: Any
    id: int

    def encode(self) -> str:
        raw = orjson.dumps([self.kind, self.sort, self.key, self.id])
        # base64.urlsafe_b64encode, unpadded, in one C call each (a page encodes 100 cursors).
        encoded = binascii.b2a_base64(raw, newline=False).translate(_URLSAFE).rstrip(b"=")
        return encoded.decode()

    @classmethod
    def decode(cls, value: str, *, kind: str, sort: str, field: str) -> Cursor:
        try:
            padded = value + "=" * (-len(value) % 4)
            decoded = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
            c_kind, c_sort, key, row_id = decoded
            if not isinstance(row_id, int) or isinstance(row_id, bool):
                raise TypeError("id must be an integer")
            if not 0 <= row_id <= MAX_ROW_ID:
                raise ValueError("id out of range")
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
            raise DomainError(
                ErrorCode.INVALID_CURSOR, f"`{field}` is not a valid cursor", field=field
            ) from exc
        if c_kind != kind:
            raise DomainError(
                ErrorCode.INVALID_CURSOR, f"`{field}` is a cursor of another list", field=field
            )
        if c_sort != sort:
            raise DomainError(
                ErrorCode.INVALID_CURSOR,
                f"`{field}` was issued for a different sort order; restart from the first page",
                field=field,
            )
        return cls(kind=c_kind, sort=c_sort, key=key, id=row_id)


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Validated `first/after/last/before`. `forward` is False when paginating with `last`."""

    size: int
    forward: bool
    after: str | None
    before: str | None

    @classmethod
    def from_args(
        cls,
        *,
        first: int | None,
        after: str | None,
        last: int | None,
        before: str | None,
        max_size: int,
        default_size: int = DEFAULT_PAGE_SIZE,
    ) -> PageRequest:
        if first is not None and last is not None:
            raise InvalidInput("Pass either `first` or `last`, not both", field="first")
        for name, value in (("first", first), ("last", last)):
            if value is None:
                continue
            if value < 0:
                raise InvalidInput(f"`{name}` must not be negative", field=name)
            if value > max_size:
                raise DomainError(
                    ErrorCode.PAGE_SIZE_EXCEEDED,
                    f"`{name}` is {value}; the maximum page size is {max_size}",
                    field=name,
                )
        if last is not None:
            return cls(size=last, forward=False, after=after, before=before)
        return cls(
            size=default_size if first is None else first, forward=True, after=after, before=before
        )


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of rows in display order with their cursors and neighbours."""

    items: list[T]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool

    @property
    def start_cursor(self) -> str | None:
        return self.cursors[0] if self.cursors else None

    @property
    def end_cursor(self) -> str | None:
        return self.cursors[-1] if self.cursors else None
