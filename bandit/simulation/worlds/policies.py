"""The policies the world suite compares: random, popularity, the oracle, and the plain-VW
anchor (in `anchor`). The service itself is driven by an adapter outside `bandit/`
(`services/simulation.py`), behind the same `Policy` protocol.

A policy learns the catalog only from `arrive` (called with the initial catalog before the
first request and with each batch of new products), sees only public `Request`s, and
learns only from the `Outcome`s of its own slates.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from bandit.simulation.worlds.world import Outcome, Product, Reaction, Request, World

POSITIVE = frozenset({Reaction.TICK, Reaction.CART_ADD})


class Policy(Protocol):
    """A recommender under simulation."""

    name: str

    def arrive(self, products: Sequence[Product]) -> None:
        """Products that join the catalog now."""
        ...

    def recommend(self, request: Request) -> list[str]:
        """`request.k` distinct product ids from the catalog, in slot order."""
        ...

    def feedback(self, request: Request, shown: Sequence[str], outcome: Outcome) -> None:
        """What the shopper did with each shown item (same order as `shown`)."""
        ...

    def close(self) -> None:
        """Release resources (a VW workspace, a server)."""
        ...


class _Catalog:
    def __init__(self) -> None:
        self.products: list[Product] = []

    def arrive(self, products: Sequence[Product]) -> None:
        self.products.extend(products)

    def close(self) -> None:
        """Nothing to release."""


class RandomPolicy(_Catalog):
    """Uniformly random slates: the floor. Its expected CTR has a closed form."""

    name = "random"

    def __init__(self, seed: int) -> None:
        super().__init__()
        self._rng = np.random.default_rng([seed, 11])

    def recommend(self, request: Request) -> list[str]:
        picks = self._rng.choice(len(self.products), size=request.k, replace=False)
        return [self.products[i].id for i in picks]

    def feedback(self, request: Request, shown: Sequence[str], outcome: Outcome) -> None:
        """Random ignores feedback."""


class PopularityPolicy(_Catalog):
    """The products clicked most so far (over all shoppers); ties broken at random."""

    name = "popularity"

    def __init__(self, seed: int) -> None:
        super().__init__()
        self._rng = np.random.default_rng([seed, 12])
        self._clicks: Counter[str] = Counter()

    def recommend(self, request: Request) -> list[str]:
        counts = np.array([self._clicks[p.id] for p in self.products], dtype=float)
        order = np.lexsort((self._rng.random(len(counts)), -counts))[: request.k]
        return [self.products[i].id for i in order]

    def feedback(self, request: Request, shown: Sequence[str], outcome: Outcome) -> None:
        for product, reaction in zip(shown, outcome.reactions, strict=True):
            if reaction in POSITIVE:
                self._clicks[product] += 1


class OraclePolicy(_Catalog):
    """Knows the hidden tastes: the k products with the highest click probability, best
    first (with examination falling by slot this maximises expected clicks)."""

    name = "oracle"

    def __init__(self, world: World) -> None:
        super().__init__()
        self._world = world

    def recommend(self, request: Request) -> list[str]:
        ids = [p.id for p in self.products]
        p = self._world.attraction(request, ids)
        order = np.argsort(-p, kind="stable")[: request.k]
        return [ids[i] for i in order]

    def feedback(self, request: Request, shown: Sequence[str], outcome: Outcome) -> None:
        """The oracle has nothing to learn."""
