"""The plain-VW anchor: the minimal contextual bandit the service must at least match.

`--cb_explore_adf --squarecb` straight from the `vowpalwabbit` package, with only these
features: the shopper id (the account, or the anonymous session), the categories the
shopper recently clicked (the last three, newest first, as seen by this policy), and the
product's category and brand; crossed shopper x category, shopper x brand and recent
category x category. Nothing else: no preferences, no page, no popularity, no slot.

It ranks the whole catalog, slot by slot: slot s is drawn from VW's pmf over the products
not yet placed (so SquareCB puts its greedy mass on the best remaining product). Every
shown item is then learned as a one-action example with cost -1 for a click and 0
otherwise (probability 1: an unweighted regression on what was shown, which is also how
the service learns, with `--clip_p 1`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from vowpalwabbit import Workspace

from bandit.simulation.worlds.policies import POSITIVE
from bandit.simulation.worlds.world import Outcome, Product, Request

RECENT_KEPT = 3
ARGS = ("--cb_explore_adf", "--squarecb", "--quiet", "-q", "uc", "-q", "ub", "-q", "rc")


def _safe(value: str) -> str:
    return value.replace(" ", "_").replace("|", "_").replace(":", "_")


class PlainVWPolicy:
    name = "plain-vw"

    def __init__(self, seed: int, *, extra_args: Sequence[str] = ()) -> None:
        self._ws = Workspace(arg_list=[*ARGS, "--random_seed", str(seed), *extra_args])
        self._rng = np.random.default_rng([seed, 13])
        self._ids: list[str] = []
        self._lines: list[str] = []
        self._line_of: dict[str, str] = {}
        self._category: dict[str, str] = {}
        self._recent: dict[str, list[str]] = {}
        self._shared: dict[int, str] = {}

    def arrive(self, products: Sequence[Product]) -> None:
        for p in products:
            line = f"|c cat={_safe(p.category)} |b brand={_safe(p.brand)}"
            self._ids.append(p.id)
            self._lines.append(line)
            self._line_of[p.id] = line
            self._category[p.id] = p.category

    def _shared_line(self, request: Request) -> str:
        key = request.shopper.key
        recent = self._recent.get(key, [])
        line = f"shared |u id={_safe(key)}"
        if recent:
            line += " |r " + " ".join(f"cat={_safe(c)}" for c in recent)
        return line

    def recommend(self, request: Request) -> list[str]:
        shared = self._shared_line(request)
        self._shared[request.index] = shared
        examples = self._ws.parse([shared, *self._lines])
        try:
            remaining = list(range(len(self._ids)))
            chosen: list[str] = []
            for _slot in range(request.k):
                subset = [examples[0], *(examples[1 + i] for i in remaining)]
                pmf = np.asarray(self._ws.predict(subset), dtype=float)
                pick = int(self._rng.choice(len(pmf), p=pmf / pmf.sum()))
                chosen.append(self._ids[remaining.pop(pick)])
        finally:
            self._ws.finish_example(examples)
        return chosen

    def feedback(self, request: Request, shown: Sequence[str], outcome: Outcome) -> None:
        shared = self._shared.pop(request.index)
        for product, reaction in zip(shown, outcome.reactions, strict=True):
            cost = -1.0 if reaction in POSITIVE else 0.0
            self._ws.learn([shared, f"0:{cost}:1.0 {self._line_of[product]}"])
        key = request.shopper.key
        for product, reaction in zip(shown, outcome.reactions, strict=True):
            if reaction in POSITIVE:
                category = self._category[product]
                history = [c for c in self._recent.get(key, []) if c != category]
                self._recent[key] = [category, *history][:RECENT_KEPT]

    def close(self) -> None:
        self._ws.finish()
