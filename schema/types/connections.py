"""Shaping a service's `Page` into Relay page info."""

from __future__ import annotations

from typing import Any

from strawberry import relay

from core.pagination import Page


def page_info(page: Page[Any]) -> relay.PageInfo:
    return relay.PageInfo(
        has_next_page=page.has_next_page,
        has_previous_page=page.has_previous_page,
        start_cursor=page.start_cursor,
        end_cursor=page.end_cursor,
    )
