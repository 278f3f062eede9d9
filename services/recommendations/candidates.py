"""Candidate generation for recommendations, from an in-memory index of the live catalog.

Ranking cost grows with the number of candidates, so each request ranks a capped set
(default 150) drawn from several sources, in this order of priority:

1. neighbours of the product being viewed (same category, then same brand),
2. the shopper's affinities (favourite categories/brands from preferences, categories of
   recent interest from their signals, less any their signals turned down), most popular
   first,
3. globally popular products,
4. new products (so that they get explored before they have any popularity),
5. a random slice of the whole catalog (exploration beyond the popular head).

Only active, in-stock products are candidates, and never one the shopper lately turned down
(crossed, `request.shopper_signals`), unless too few others are left. The index holds one immutable
`ActionFeatures` per product and is rebuilt in the background when catalog or stock events
arrive (debounced) and periodically, so requests never query the catalog.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import random
import time
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bandit.features import ActionFeatures
from core.background import cancel_tasks
from models import Product
from services.recommendations.decisions import loggable

logger = logging.getLogger("shopgraph.candidates")

NEW_PRODUCT_DAYS = 30.0


@dataclass(frozen=True)
class CandidateMix:
    """How many candidates each source contributes at most (before de-duplication)."""

    neighbours: int = 40
    affinities: int = 50
    popular: int = 40
    new: int = 10
    random: int = 30


def action_features(product: Product, now: datetime | None = None) -> ActionFeatures:
    """The learner's view of a product as it is now, in the precision the decision log
    keeps exactly (`decisions.loggable`): what is ranked is what is logged and learned."""
    now = now or datetime.now(UTC)
    age_days = max((now - product.created_at).total_seconds() / 86400.0, 0.0)
    return loggable(
        ActionFeatures(
            action_id=product.id,
            category=product.category,
            brand=product.brand,
            price=product.price,
            features=product.features or {},
            popularity=product.popularity,
            created_days_ago=age_days,
            ar_enabled=product.ar_enabled,
        )
    )


class CatalogIndex:
    def __init__(self) -> None:
        self.by_id: dict[int, ActionFeatures] = {}
        self.products: dict[int, Product] = {}
        self._by_category: dict[str, list[int]] = {}
        self._by_brand: dict[str, list[int]] = {}
        self._popular: list[int] = []
        self._new: list[int] = []
        self._all: list[int] = []
        self.loaded_at = 0.0

    @classmethod
    def build(cls, products: Iterable[Product]) -> CatalogIndex:
        index = cls()
        now = datetime.now(UTC)
        rows = [p for p in products if p.is_active and p.inventory > 0]
        rows.sort(key=lambda p: (-p.popularity, p.id))
        by_category: dict[str, list[int]] = defaultdict(list)
        by_brand: dict[str, list[int]] = defaultdict(list)
        for product in rows:
            index.by_id[product.id] = action_features(product, now)
            index.products[product.id] = product
            by_category[product.category.lower()].append(product.id)
            by_brand[product.brand.lower()].append(product.id)
        index._by_category = dict(by_category)
        index._by_brand = dict(by_brand)
        index._popular = [p.id for p in rows]
        index._new = [
            p.id for p in sorted(rows, key=lambda p: p.created_at, reverse=True)
            if (now - p.created_at).total_seconds() < NEW_PRODUCT_DAYS * 86400
        ]  # fmt: skip
        index._all = sorted(index.by_id)
        index.loaded_at = time.monotonic()
        return index

    def __len__(self) -> int:
        return len(self.by_id)

    def candidates(
        self,
        *,
        limit: int,
        rng: random.Random,
        viewed: int | None = None,
        categories: Sequence[str] = (),
        brands: Sequence[str] = (),
        excluded: Collection[int] = frozenset(),
        minimum: int = 1,
        mix: CandidateMix | None = None,
    ) -> list[ActionFeatures]:
        """Up to `limit` candidates, none of them `viewed` or `excluded` -- unless fewer than
        `minimum` would be left, then excluded products fill the gap (popular first)."""
        mix = mix or CandidateMix()
        chosen: dict[int, None] = {}
        skipped = {viewed, *excluded}

        def take(ids: Iterable[int], most: int) -> None:
            added = 0
            for product_id in ids:
                if added >= most or len(chosen) >= limit:
                    return
                if product_id not in skipped and product_id not in chosen:
                    chosen[product_id] = None
                    added += 1

        viewed_product = self.products.get(viewed) if viewed is not None else None
        if viewed_product is not None:
            same_category = self._by_category.get(viewed_product.category.lower(), [])
            same_brand = self._by_brand.get(viewed_product.brand.lower(), [])
            take(same_category, mix.neighbours * 3 // 4)
            take(same_brand, mix.neighbours - mix.neighbours * 3 // 4)
        affinity = [self._by_category.get(c.lower(), []) for c in categories]
        affinity += [self._by_brand.get(b.lower(), []) for b in brands]
        if affinity:
            per_source = max(mix.affinities // len(affinity), 1)
            for ids in affinity:
                take(ids, per_source)
        take(self._popular, mix.popular)
        take(self._new, mix.new)
        if self._all:
            sample = rng.sample(self._all, min(len(self._all), mix.random * 2))
            take(sample, mix.random)
        # Whatever room is left goes to the popular head.
        take(self._popular, limit)
        if len(chosen) < minimum and excluded:
            skipped = {viewed}
            take(self._popular, minimum - len(chosen))
        return [self.by_id[i] for i in chosen]


class CatalogIndexHolder:
    """The process's current index, rebuilt off the request path."""

    def __init__(self, *, min_interval: float = 2.0, max_age: float = 60.0) -> None:
        self.index = CatalogIndex()
        self.min_interval = min_interval
        self.max_age = max_age
        self._dirty = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def load(self) -> None:
        started = time.perf_counter()
        products = await Product.filter(is_active=True, inventory__gt=0)
        self.index = CatalogIndex.build(products)
        # The index is tens of thousands of long-lived objects: keep them out of the
        # garbage collector's full passes, which otherwise stall every request for 100+ ms.
        gc.freeze()
        logger.debug(
            "catalog index: %d products in %.0f ms",
            len(self.index),
            (time.perf_counter() - started) * 1000,
        )

    def mark_dirty(self) -> None:
        self._dirty.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._refresh_forever(), name="catalog-index")

    async def stop(self) -> None:
        await cancel_tasks([self._task])

    async def _refresh_forever(self) -> None:
        while True:
            # asyncio.timeout, unlike wait_for, does not spawn a task per wait.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.max_age):
                    await self._dirty.wait()
            self._dirty.clear()
            try:
                await self.load()
            except Exception:
                logger.exception("catalog index refresh failed; keeping the previous index")
            await asyncio.sleep(self.min_interval)  # debounce bursts of stock changes


async def learner_views(
    product_ids: Iterable[int], index: CatalogIndex | None = None
) -> dict[int, ActionFeatures]:
    """The learner's view of each product: from the index when it is there, else from the
    database (a product out of stock or withdrawn since it was recommended)."""
    known = index.by_id if index is not None else {}
    missing = {i for i in product_ids if i not in known}
    if not missing:
        return known
    found = {p.id: action_features(p) for p in await Product.filter(id__in=missing)}
    return {**known, **found}
