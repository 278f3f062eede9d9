"""Simulator: determinism, reward table, slate validation, and VW learning beats random."""

from __future__ import annotations

import numpy as np
import pytest

from bandit.simulation import (
    OracleRecommender,
    RandomRecommender,
    SimulationConfig,
    World,
    WorldConfig,
    format_curves,
    run_simulation,
    simulate,
)
from bandit.slates import SlateItem

SMALL_WORLD = WorldConfig(n_products=200, n_users=100, candidates_per_request=30)


def test_world_is_deterministic_for_a_seed() -> None:
    first, second = World(SMALL_WORLD, seed=3), World(SMALL_WORLD, seed=3)
    a = first.request(1, np.random.default_rng(0), {})
    b = second.request(1, np.random.default_rng(0), {})
    assert a == b
    ids = [c.action_id for c in a.candidates]
    np.testing.assert_array_equal(first.tick_probability(a, ids), second.tick_probability(b, ids))


def test_rewards_follow_the_reward_table() -> None:
    table = {"tick": 10.0, "cross": -3.0, "cart_add": 100.0, "purchase": 1000.0}
    config = WorldConfig(n_products=50, n_users=10, candidates_per_request=20, reward_table=table)
    world = World(config, seed=1)
    rng = np.random.default_rng(0)
    seen = set()
    for i in range(300):
        request = world.request(i, rng, {})
        shown = [c.action_id for c in request.candidates[:5]]
        for outcome in world.outcomes(request, shown, rng):
            assert outcome.reward == sum(table[e] for e in outcome.events)
            seen.update(outcome.events)
    assert {"tick", "cross", "cart_add"} <= seen


def test_oracle_ranks_by_true_expected_reward() -> None:
    world = World(SMALL_WORLD, seed=2)
    request = world.request(1, np.random.default_rng(5), {})
    slate = OracleRecommender(world).recommend(request, 3)
    values = world.expected_reward(request, [c.action_id for c in request.candidates])
    assert [item.score for item in slate] == sorted(values, reverse=True)[:3]


def test_invalid_slates_are_rejected() -> None:
    class Cheater(RandomRecommender):
        def recommend(self, request, k):
            return [SlateItem("not-a-candidate", 0, 1.0, 0.0)]

    world = World(SMALL_WORLD, seed=1)
    with pytest.raises(ValueError, match="invalid slate"):
        simulate(world, Cheater(seed=0), SimulationConfig(events=5, world=SMALL_WORLD))


def test_vw_learns_to_beat_random_and_popularity() -> None:
    config = SimulationConfig(
        events=1500, slate_size=3, checkpoint_every=500, seed=1, world=SMALL_WORLD
    )
    result = run_simulation(config, policies=("random", "popularity", "vw", "oracle"))
    late = {
        curve.name: float(np.mean([p.window_ctr for p in curve.points[1:]]))
        for curve in result.curves
    }
    assert late["vw"] >= 1.8 * late["random"]
    assert late["vw"] > late["popularity"]
    assert late["oracle"] > late["vw"]
    vw = result.curve("vw")
    assert vw.points[-1].window_reward > result.curve("random").points[-1].window_reward
    table = format_curves(result)
    assert "vw" in table and "1500" in table
