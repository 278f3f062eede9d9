"""Per-request DataLoaders: one batched query per kind of lookup, however many rows ask.

A `Loaders` instance belongs to one request (or one subscription event): DataLoader caches
without bound, so it must never outlive the request that created it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from functools import cached_property

from strawberry.dataloader import DataLoader

from models import Product, User
from services import catalog, interactions


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
