"""Shaping a service's `Page` into a Relay connection, and reading page arguments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from strawberry import relay

from core.pagination import Page, PageRequest
from schema.context import Info

C = TypeVar("C")


def page_request(
    info: Info,
    *,
    first: int | None,
    after: str | None,
    last: int | None = None,
    before: str | None = None,
) -> PageRequest:
    """Validated page arguments, capped at `MAX_PAGE_SIZE`."""
    return PageRequest.from_args(
        first=first,
        after=after,
        last=last,
        before=before,
        max_size=info.context.settings.max_page_size,
    )


def page_info(page: Page[Any]) -> relay.PageInfo:
    return relay.PageInfo(
        has_next_page=page.has_next_page,
        has_previous_page=page.has_previous_page,
        start_cursor=page.start_cursor,
        end_cursor=page.end_cursor,
    )


def connection(
    connection_type: Callable[..., C],
    edge_type: Callable[..., Any],
    page: Page[Any],
    to_node: Callable[[Any], Any],
    **fields: Any,
) -> C:
    """`connection_type` holding one `edge_type` per row of `page`, in order."""
    return connection_type(
        edges=[
            edge_type(cursor=cursor, node=to_node(row))
            for row, cursor in zip(page.items, page.cursors, strict=True)
        ],
        page_info=page_info(page),
        **fields,
    )
