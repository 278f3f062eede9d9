"""Drive recommenders through the synthetic shop and report reward curves.

Every policy sees the same sequence of requests (same shoppers, contexts and candidate
sets, from one seeded stream); only the shoppers' recent categories depend on what the
policy showed them. Outcomes use a second seeded stream. Curves are reported every
`checkpoint_every` events (one event = one slate) as the CTR (ticks per shown item) and
mean reward per shown item over the last window and cumulatively.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from bandit.learner import LearnerConfig
from bandit.simulation.recommenders import (
    OracleRecommender,
    PopularityRecommender,
    RandomRecommender,
    Recommender,
    VWRecommender,
)
from bandit.simulation.world import World, WorldConfig

RECENT_CATEGORIES_KEPT = 3
DEFAULT_POLICIES = ("random", "popularity", "vw", "oracle")


@dataclass(frozen=True)
class SimulationConfig:
    """How long to simulate and how big the shop is."""

    events: int = 20_000
    slate_size: int = 4
    checkpoint_every: int = 1_000
    seed: int = 7
    world: WorldConfig = field(default_factory=WorldConfig)
    learner: LearnerConfig = field(default_factory=LearnerConfig)


@dataclass(frozen=True)
class CurvePoint:
    """Metrics after `events` slates."""

    events: int
    window_ctr: float
    window_reward: float
    cumulative_ctr: float
    cumulative_reward: float


@dataclass(frozen=True)
class PolicyCurve:
    """One policy's learning curve and wall-clock time."""

    name: str
    points: tuple[CurvePoint, ...]
    seconds: float

    @property
    def final(self) -> CurvePoint:
        return self.points[-1]


@dataclass(frozen=True)
class SimulationResult:
    """Curves of all simulated policies under one configuration."""

    config: SimulationConfig
    curves: tuple[PolicyCurve, ...]

    def curve(self, name: str) -> PolicyCurve:
        for curve in self.curves:
            if curve.name == name:
                return curve
        raise KeyError(name)


def make_recommender(name: str, world: World, config: SimulationConfig) -> Recommender:
    """Build one of the built-in policies by name ("random", "popularity", "oracle", "vw")."""
    if name == "random":
        return RandomRecommender(seed=config.seed)
    if name == "popularity":
        return PopularityRecommender(seed=config.seed)
    if name == "oracle":
        return OracleRecommender(world)
    if name == "vw":
        return VWRecommender(config.learner, seed=config.seed)
    raise ValueError(f"unknown policy {name!r}")


def simulate(world: World, recommender: Recommender, config: SimulationConfig) -> PolicyCurve:
    """Run `config.events` slates of `recommender` in `world`; return its curve."""
    request_rng = np.random.default_rng([config.seed, 1])
    outcome_rng = np.random.default_rng([config.seed, 2])
    recent: dict[int, list[str]] = {}
    points: list[CurvePoint] = []
    window = np.zeros(3)  # shown, ticks, reward
    total = np.zeros(3)
    started = time.perf_counter()
    for event in range(1, config.events + 1):
        request = world.request(event, request_rng, recent)
        shown = list(recommender.recommend(request, config.slate_size))
        _check_slate(shown, request, config.slate_size)
        outcomes = world.outcomes(request, [item.action_id for item in shown], outcome_rng)
        recommender.feedback(request, shown, [o.reward for o in outcomes], outcomes)
        user = int(request.user_id.split("-")[1])
        for item, outcome in zip(shown, outcomes, strict=True):
            if outcome.ticked:
                category = world.products[world.product_index[item.action_id]].category
                history = [c for c in recent.get(user, []) if c != category]
                recent[user] = [category, *history][:RECENT_CATEGORIES_KEPT]
        stats = np.array(
            [len(shown), sum(o.ticked for o in outcomes), sum(o.reward for o in outcomes)]
        )
        window += stats
        total += stats
        if event % config.checkpoint_every == 0 or event == config.events:
            points.append(
                CurvePoint(
                    events=event,
                    window_ctr=window[1] / max(window[0], 1),
                    window_reward=window[2] / max(window[0], 1),
                    cumulative_ctr=total[1] / max(total[0], 1),
                    cumulative_reward=total[2] / max(total[0], 1),
                )
            )
            window[:] = 0
    return PolicyCurve(recommender.name, tuple(points), time.perf_counter() - started)


def _check_slate(shown: Sequence, request, k: int) -> None:
    ids = [item.action_id for item in shown]
    allowed = {c.action_id for c in request.candidates}
    if len(ids) > k or len(set(ids)) != len(ids) or not set(ids) <= allowed:
        raise ValueError(f"invalid slate {ids!r} for request {request.request_id}")


def _simulate_named(name: str, config: SimulationConfig) -> PolicyCurve:
    world = World(config.world, config.seed)
    return simulate(world, make_recommender(name, world, config), config)


def run_simulation(
    config: SimulationConfig | None = None,
    policies: Sequence[str] = DEFAULT_POLICIES,
    *,
    workers: int = 1,
    extra: Sequence[Callable[[World], Recommender]] = (),
) -> SimulationResult:
    """Simulate the named built-in policies (in `workers` processes) plus `extra` ones.

    `extra` takes factories receiving the world, e.g. a recommender backed by the real
    service layer; they run in this process after the built-in ones.
    """
    config = config or SimulationConfig()
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            curves = list(pool.map(_simulate_named, policies, [config] * len(policies)))
    else:
        curves = [_simulate_named(name, config) for name in policies]
    if extra:
        world = World(config.world, config.seed)
        curves += [simulate(world, factory(world), config) for factory in extra]
    return SimulationResult(config, tuple(curves))


def format_curves(result: SimulationResult, metric: str = "ctr") -> str:
    """A table of window `metric` ("ctr" or "reward") per checkpoint, one column per policy."""
    names = [c.name for c in result.curves]
    header = f"{'events':>7} " + " ".join(f"{n:>11}" for n in names)
    lines = [f"window {metric} per shown item", header]
    for i, point in enumerate(result.curves[0].points):
        values = [getattr(curve.points[i], f"window_{metric}") for curve in result.curves]
        lines.append(f"{point.events:>7} " + " ".join(f"{v:>11.4f}" for v in values))
    lines.append(
        f"{'cumul.':>7} "
        + " ".join(f"{getattr(c.final, f'cumulative_{metric}'):>11.4f}" for c in result.curves)
    )
    lines.append(f"{'seconds':>7} " + " ".join(f"{c.seconds:>11.1f}" for c in result.curves))
    return "\n".join(lines)
