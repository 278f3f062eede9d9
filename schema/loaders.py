"""Per-request DataLoaders: one batched query per kind of lookup, however many rows ask.

A `Loaders` instance belongs to one request (or one subscription event): DataLoader caches
without bound, so it must never outlive the request that created it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from functools import cached_property

from strawberry.dataloader import DataLoader

from models import ChatMessage, OrderItem, Product, User
from services import catalog, chat, interactions, orders


async def _load_products(ids: Sequence[int]) -> list[Product | None]:
    rows = {p.id: p for p in await catalog.products_by_ids(ids)}
    return [rows.get(i) for i in ids]


async def _load_users(ids: Sequence[int]) -> list[User | None]:
    rows = {u.id: u for u in await User.filter(id__in=list(ids))}
    return [rows.get(i) for i in ids]


async def _load_action_counts(ids: Sequence[int]) -> list[dict[str, int]]:
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for product_id, action, n in await interactions.action_counts(ids):
        counts[product_id][action] = n
    return [counts.get(i, {}) for i in ids]


async def _load_order_items(ids: Sequence[int]) -> list[list[OrderItem]]:
    grouped = await orders.items_by_order_ids(ids)
    return [grouped.get(i, []) for i in ids]


# (session id, messages after this id, at most this many)
MessagePageKey = tuple[int, int, int]


async def _load_message_pages(keys: Sequence[MessagePageKey]) -> list[list[ChatMessage]]:
    # One query per distinct (after, limit): in a session list every key shares them.
    by_args: dict[tuple[int, int], list[int]] = defaultdict(list)
    for session_id, after_id, limit in keys:
        by_args[(after_id, limit)].append(session_id)
    pages: dict[MessagePageKey, list[ChatMessage]] = {}
    for (after_id, limit), session_ids in by_args.items():
        found = await chat.messages_after(session_ids, after_id=after_id, limit=limit)
        for session_id in session_ids:
            pages[(session_id, after_id, limit)] = found.get(session_id, [])
    return [pages[key] for key in keys]


class Loaders:
    """Loaders are created on first use, so a request pays only for the ones it needs."""

    @cached_property
    def product_by_id(self) -> DataLoader[int, Product | None]:
        return DataLoader(load_fn=_load_products)

    @cached_property
    def user_by_id(self) -> DataLoader[int, User | None]:
        return DataLoader(load_fn=_load_users)

    @cached_property
    def action_counts_by_product(self) -> DataLoader[int, dict[str, int]]:
        return DataLoader(load_fn=_load_action_counts)

    @cached_property
    def order_items_by_order(self) -> DataLoader[int, list[OrderItem]]:
        return DataLoader(load_fn=_load_order_items)

    @cached_property
    def chat_message_page(self) -> DataLoader[MessagePageKey, list[ChatMessage]]:
        return DataLoader(load_fn=_load_message_pages)
