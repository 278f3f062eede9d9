"""Candidate generation: sources, exclusions, and never an empty slate for lack of them."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from services.recommendations.candidates import CatalogIndex
from services.seed import generate_products


@pytest.fixture
def index() -> CatalogIndex:
    products = generate_products(60, seed=7)
    for pk, product in enumerate(products, 1):
        product.id, product.created_at = pk, datetime.now(UTC)
    return CatalogIndex.build(products)


def ids(candidates) -> set[int]:
    return {c.action_id for c in candidates}


def test_turned_down_products_are_no_candidates(index):
    excluded = frozenset(list(index.by_id)[:10])
    chosen = ids(index.candidates(limit=150, rng=random.Random(1), excluded=excluded))
    assert chosen == set(index.by_id) - excluded


def test_turned_down_products_fill_in_when_too_few_are_left(index):
    everything = frozenset(index.by_id)
    chosen = index.candidates(limit=150, rng=random.Random(1), excluded=everything, minimum=5)
    assert len(chosen) == 5
    viewed = next(iter(index.by_id))
    chosen = index.candidates(
        limit=150, rng=random.Random(1), viewed=viewed, excluded=everything, minimum=5
    )
    assert len(chosen) == 5 and viewed not in ids(chosen)


def test_affinities_come_first(index):
    category = next(iter(index.products.values())).category
    same = {i for i, p in index.products.items() if p.category == category}
    chosen = index.candidates(limit=len(same), rng=random.Random(1), categories=[category])
    assert ids(chosen) == same
