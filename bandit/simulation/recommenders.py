"""The recommender protocol the simulator drives, and the policies it compares.

`Recommender` is deliberately small so that a recommender going through the real service
layer (rank over HTTP/GraphQL, rewards posted back) can be plugged in unchanged: it gets
a `ShopperRequest` and a slate size, returns `SlateItem`s (ids from the request's
candidates, with the probability it chose them under), and later receives each shown
item's reward.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from bandit.learner import BanditLearner, LearnerConfig
from bandit.simulation.world import Outcome, ShopperRequest, World
from bandit.slates import Slate, SlateItem


class Recommender(Protocol):
    """A policy under simulation."""

    name: str

    def recommend(self, request: ShopperRequest, k: int) -> Sequence[SlateItem]:
        """Up to `k` distinct candidate ids in slot order, with their probabilities."""
        ...

    def feedback(
        self,
        request: ShopperRequest,
        shown: Sequence[SlateItem],
        rewards: Sequence[float],
        outcomes: Sequence[Outcome] | None = None,
    ) -> None:
        """The reward of each shown item (same order as `shown`); `outcomes` also names the
        events behind each reward (tick, cart_add, ...) for recommenders that record them."""
        ...


class RandomRecommender:
    """Uniformly random slates: the floor any learner must beat."""

    name = "random"

    def __init__(self, seed: int) -> None:
        self._rng = np.random.default_rng(seed)

    def recommend(self, request: ShopperRequest, k: int) -> list[SlateItem]:
        n = len(request.candidates)
        picks = self._rng.choice(n, size=min(k, n), replace=False)
        return [
            SlateItem(request.candidates[p].action_id, slot, 1.0 / (n - slot), 0.0)
            for slot, p in enumerate(picks)
        ]

    def feedback(self, request, shown, rewards, outcomes=None) -> None:
        """Random ignores feedback."""


class PopularityRecommender:
    """Most ticked products so far (global counts, ties broken at random)."""

    name = "popularity"

    def __init__(self, seed: int) -> None:
        self._rng = np.random.default_rng(seed)
        self._positives: Counter[object] = Counter()

    def recommend(self, request: ShopperRequest, k: int) -> list[SlateItem]:
        counts = np.array([self._positives[c.action_id] for c in request.candidates], float)
        order = np.lexsort((self._rng.random(len(counts)), -counts))[:k]
        return [
            SlateItem(request.candidates[p].action_id, slot, 1.0, float(counts[p]))
            for slot, p in enumerate(order)
        ]

    def feedback(self, request, shown, rewards, outcomes=None) -> None:
        for item, reward in zip(shown, rewards, strict=True):
            if reward > 0:
                self._positives[item.action_id] += 1


class OracleRecommender:
    """Knows the hidden tastes: shows the k candidates with the highest true expected reward."""

    name = "oracle"

    def __init__(self, world: World) -> None:
        self._world = world

    def recommend(self, request: ShopperRequest, k: int) -> list[SlateItem]:
        ids = [c.action_id for c in request.candidates]
        value = self._world.expected_reward(request, ids)
        order = np.argsort(-value, kind="stable")[:k]
        return [SlateItem(ids[p], slot, 1.0, float(value[p])) for slot, p in enumerate(order)]

    def feedback(self, request, shown, rewards, outcomes=None) -> None:
        """The oracle has nothing to learn."""


class VWRecommender:
    """The pure-library bandit: `BanditLearner.rank`, then one learning example per item."""

    def __init__(self, config: LearnerConfig | None = None, *, seed: int, name: str = "vw"):
        self.name = name
        self.learner = BanditLearner(config)
        self._rng = np.random.default_rng(seed)
        self._slates: dict[int, Slate] = {}

    def recommend(self, request: ShopperRequest, k: int) -> Sequence[SlateItem]:
        slate = self.learner.rank(request.context, request.candidates, k, seed=self._rng)
        self._slates[request.request_id] = slate
        return slate.items

    def feedback(self, request, shown, rewards, outcomes=None) -> None:
        slate = self._slates.pop(request.request_id)
        for item, reward in zip(shown, rewards, strict=True):
            self.learner.learn(
                slate.example_for(
                    item.action_id,
                    reward,
                    context=request.context,
                    candidates=request.candidates,
                )
            )
