"""Relay `resolve_nodes` in one place: global ids in, the visible rows as nodes out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from core.ids import INT32_MAX, parse_row_id


async def nodes_in_order(
    node_ids: Iterable[str],
    fetch: Callable[[list[int]], Awaitable[Iterable[Any]]],
    to_node: Callable[[Any], Any],
    *,
    max_id: int = INT32_MAX,
) -> list[Any]:
    """One node (or None) per id, in order. `fetch` returns the rows the viewer may see, so a
    row of someone else's looks exactly like a missing one; malformed ids are missing too."""
    ids = [parse_row_id(i, max_id=max_id) for i in node_ids]
    wanted = [i for i in ids if i is not None]
    rows = await fetch(wanted) if wanted else []
    found = {row.id: to_node(row) for row in rows if row is not None}
    return [found.get(i) if i is not None else None for i in ids]
