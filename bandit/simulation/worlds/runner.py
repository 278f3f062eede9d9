"""Run one policy through one world: the same requests, the same metric, for every policy.

The metric is the click-through rate: clicks (ticks and cart adds) per shown item. A
run records the clicks of every slate, so the CTR over the last quarter of the first N
slates (the figure reported at N = 1k, 4k, 20k) comes from one run of the longest N.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bandit.simulation.worlds.policies import Policy
from bandit.simulation.worlds.world import Request, World


@dataclass(frozen=True)
class Run:
    """Clicks and shown items per slate of one policy in one world instance."""

    world: str
    seed: int
    policy: str
    clicks: np.ndarray
    shown: np.ndarray
    seconds: float

    @property
    def slates(self) -> int:
        return len(self.clicks)

    def ctr(self, horizon: int) -> float:
        """CTR over the last quarter of the first `horizon` slates."""
        if horizon > self.slates:
            raise ValueError(f"run has {self.slates} slates, not {horizon}")
        window = slice(horizon - horizon // 4, horizon)
        return float(self.clicks[window].sum() / max(self.shown[window].sum(), 1))

    def to_json(self) -> dict:
        return {
            "world": self.world,
            "seed": self.seed,
            "policy": self.policy,
            "seconds": round(self.seconds, 2),
            "clicks": self.clicks.tolist(),
            "shown": self.shown.tolist(),
        }

    @classmethod
    def from_json(cls, data: dict) -> Run:
        return cls(
            world=data["world"],
            seed=int(data["seed"]),
            policy=data["policy"],
            clicks=np.asarray(data["clicks"], dtype=np.int16),
            shown=np.asarray(data["shown"], dtype=np.int16),
            seconds=float(data["seconds"]),
        )


def check_slate(world: World, request: Request, shown: Sequence[str]) -> None:
    """A slate is `k` distinct products of the current catalog."""
    catalog = {p.id for p in world.available(request.index)}
    if len(shown) != request.k or len(set(shown)) != len(shown) or not set(shown) <= catalog:
        raise ValueError(f"invalid slate {list(shown)!r} for request {request.index}")


def run_policy(
    world: World,
    policy: Policy,
    slates: int | None = None,
    *,
    on_progress: Callable[[Run], None] | None = None,
    every: int = 1000,
) -> Run:
    """Drive `policy` through the first `slates` requests of `world`; `on_progress` gets
    the run so far every `every` slates (long runs save partial results with it)."""
    slates = world.slates if slates is None else slates
    clicks = np.zeros(slates, dtype=np.int16)
    shown_count = np.zeros(slates, dtype=np.int16)
    started = time.perf_counter()
    try:
        for index in range(slates):
            arrived = world.arrivals(index)
            if arrived:
                policy.arrive(arrived)
            request = world.request(index)
            shown = policy.recommend(request)
            check_slate(world, request, shown)
            outcome = world.outcome(request, shown)
            policy.feedback(request, shown, outcome)
            clicks[index] = outcome.n_clicks
            shown_count[index] = len(shown)
            if on_progress is not None and (index + 1) % every == 0 and index + 1 < slates:
                on_progress(
                    _run(world, policy, clicks[: index + 1], shown_count[: index + 1], started)
                )
    finally:
        policy.close()
    return _run(world, policy, clicks, shown_count, started)


def _run(world: World, policy: Policy, clicks, shown, started: float) -> Run:
    return Run(
        world.spec.name, world.seed, policy.name, clicks.copy(), shown.copy(),
        time.perf_counter() - started,
    )  # fmt: skip
