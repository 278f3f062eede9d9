"""The world suite as a yardstick: determinism, hidden state, the oracle bound, random's
closed form, the plain-VW anchor, reactions, intervals and stored results."""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import replace

import numpy as np
import pytest

from bandit.simulation.worlds import suite
from bandit.simulation.worlds.anchor import PlainVWPolicy
from bandit.simulation.worlds.policies import OraclePolicy, PopularityPolicy, RandomPolicy
from bandit.simulation.worlds.runner import Run, check_slate, run_policy
from bandit.simulation.worlds.spec import WORLDS, WorldSpec, world_names
from bandit.simulation.worlds.stats import t_interval, t_quantile
from bandit.simulation.worlds.world import Product, Reaction, Request, Shopper, World

NAMES = list(WORLDS)


def _oracle_slate(world: World, request: Request) -> list[str]:
    oracle = OraclePolicy(world)
    oracle.arrive(world.available(request.index))
    return oracle.recommend(request)


def test_the_suite_has_the_issues_worlds_and_eight_structures() -> None:
    issue = WORLDS["own-silent"]
    assert (issue.n_shoppers, issue.slate_size, issue.p_like, issue.p_other) == (40, 5, 0.6, 0.04)
    assert WORLDS["own-tickcross"].feedback == "tickcross"
    assert WORLDS["own-view"].feedback == "view"
    groups = WORLDS["groups-tickcross"]
    assert (groups.n_shoppers, groups.taste_groups, groups.feedback) == (2000, 20, "tickcross")
    specs = WORLDS.values()
    assert any(s.stated_share for s in specs) and any(not s.stated_share for s in specs)
    assert any(s.drift_visits for s in specs)
    assert any(s.examination for s in specs)
    assert any(s.price_sensitive for s in specs)
    assert any(s.initial_products for s in specs)
    assert any(s.anonymous for s in specs)
    assert any(s.transport == "http" for s in specs)
    assert world_names("all") == NAMES
    assert world_names("drift,own-silent,drift") == ["drift", "own-silent"]
    with pytest.raises(ValueError, match="unknown world"):
        world_names("own-silent,atlantis")


@pytest.mark.parametrize("name", NAMES)
def test_each_world_is_deterministic_per_seed(name: str) -> None:
    first, again, other = (World(WORLDS[name], s, 300) for s in (4, 4, 5))
    assert first.products == again.products
    assert first.shoppers == again.shoppers
    assert [first.request(i) for i in range(300)] == [again.request(i) for i in range(300)]
    for index in (0, 150, 299):
        request = first.request(index)
        shown = [p.id for p in first.available(index)[: request.k]]
        assert first.outcome(request, shown) == again.outcome(again.request(index), shown)
    differs = [first.request(i).shopper != other.request(i).shopper for i in range(300)]
    assert first.products != other.products or any(differs)


@pytest.mark.parametrize("name", NAMES)
def test_policies_see_no_hidden_state(name: str) -> None:
    world = World(WORLDS[name], 3, 2000)
    # Only public fields travel to a policy (and so to the service).
    assert [f.name for f in dataclasses.fields(Product)] == [
        "id", "name", "category", "brand", "price", "features", "popularity", "age_days",
    ]  # fmt: skip
    assert [f.name for f in dataclasses.fields(Shopper)] == ["key", "signed_in", "preferences"]
    assert [f.name for f in dataclasses.fields(Request)] == [
        "index", "shopper", "page", "device", "viewed", "k",
    ]  # fmt: skip
    # Stated preferences are partial or noisy: never the whole set of liked categories.
    for index in range(2000):
        request = world.request(index)
        stated = request.shopper.preferences.get("favourite_categories")
        if stated:
            liked = world.liked_categories(request)
            assert set(stated) != liked
            assert len(set(stated) & liked) <= 1
    # Popularity does not track hidden appeal.
    appeal = np.array([world._appeal[i] for i in range(len(world.products))])
    popularity = np.array([p.popularity for p in world.products])
    if appeal.std() > 0:
        assert abs(np.corrcoef(np.log1p(popularity), appeal)[0, 1]) < 0.15
    # Shopper and session ids are opaque: accounts numbered in creation order, sessions in
    # order of arrival, so an id says nothing about a taste.
    first_seen: list[str] = []
    for index in range(2000):
        key = world.request(index).shopper.key
        assert re.fullmatch(r"s\d+|anon-3-\d+", key)
        if key.startswith("anon") and key not in first_seen:
            first_seen.append(key)
    assert first_seen == [f"anon-3-{n}" for n in range(1, len(first_seen) + 1)]


def test_taste_groups_are_shared_and_tastes_drift() -> None:
    groups = World(WORLDS["groups-tickcross"], 1, 8000)
    tastes = {groups.taste_of(groups.request(i)) for i in range(8000)}
    shoppers = {groups.request(i).shopper.key for i in range(8000)}
    assert len(tastes) == 20 and len(shoppers) > 1500  # thousands of shoppers, a few visits
    drift = World(WORLDS["drift"], 1, 8000)
    seen: dict[str, set[int]] = {}
    for i in range(8000):
        request = drift.request(i)
        seen.setdefault(request.shopper.key, set()).add(drift.taste_of(request))
    assert all(len(t) >= 2 for t in seen.values())  # every shopper changed taste


def test_products_arrive_during_the_run() -> None:
    world = World(WORLDS["new-arrivals"], 1, 2000)
    assert len(world.arrivals(0)) == 150 and len(world.available(0)) == 150
    assert world.arrivals(1) == [] and len(world.arrivals(400)) == 6
    assert len(world.available(1999)) == 150 + 4 * 6
    assert all(p.age_days == 0 for p in world.arrivals(400))


@pytest.mark.parametrize("name", NAMES)
def test_the_oracle_is_an_upper_bound_in_expectation(name: str) -> None:
    world = World(WORLDS[name], 2, 400)
    rng = np.random.default_rng(0)
    for index in range(0, 400, 20):
        request = world.request(index)
        best = world.expected_clicks(request, _oracle_slate(world, request))
        ids = [p.id for p in world.available(index)]
        for _ in range(30):
            other = list(rng.choice(ids, size=request.k, replace=False))
            assert world.expected_clicks(request, other) <= best + 1e-12


@pytest.mark.parametrize("name", ["own-silent", "position-bias", "stated-prefs"])
def test_random_matches_its_closed_form_ctr(name: str) -> None:
    slates = 3000
    world = World(WORLDS[name], 1, slates)
    spec = world.spec
    exam = np.mean([spec.exam(s) for s in range(spec.slate_size)])
    expected = np.mean(
        [
            exam * world.attraction(world.request(i), [p.id for p in world.available(i)]).mean()
            for i in range(slates)
        ]
    )
    run = run_policy(world, RandomPolicy(seed=1))
    observed = run.clicks.sum() / run.shown.sum()
    se = math.sqrt(expected * (1 - expected) / run.shown.sum())
    assert abs(observed - expected) < 4 * se, (observed, expected)


def test_plain_vw_learns_a_trivial_world() -> None:
    spec = WorldSpec(
        name="trivial", summary="", n_products=30, n_categories=3, n_brands=3,
        liked_categories=1, n_shoppers=6, p_like=0.9, p_other=0.02, slate_size=2,
    )  # fmt: skip
    world = World(spec, 1, 1200)
    anchor = run_policy(world, PlainVWPolicy(seed=1))
    oracle = run_policy(world, OraclePolicy(world))
    random = run_policy(world, RandomPolicy(seed=1))
    assert anchor.ctr(1200) >= 0.8 * oracle.ctr(1200)
    assert anchor.ctr(1200) > 2 * random.ctr(1200)


def test_reactions_follow_each_worlds_feedback() -> None:
    def reactions(name: str, **changes) -> list[tuple[Reaction, bool]]:
        world = World(replace(WORLDS[name], **changes), 1, 300)
        pairs = []
        for i in range(300):
            request = world.request(i)
            shown = [p.id for p in world.available(i)[i % 50 : i % 50 + request.k]]
            outcome = world.outcome(request, shown)
            pairs += list(zip(outcome.reactions, outcome.clicks, strict=True))
        return pairs

    for reaction, click in reactions("own-silent"):
        assert reaction == (Reaction.TICK if click else Reaction.NONE)
    for reaction, click in reactions("own-tickcross"):
        assert reaction == (Reaction.TICK if click else Reaction.CROSS)
    for reaction, click in reactions("own-view"):
        assert reaction == (Reaction.TICK if click else Reaction.VIEW)
    price = reactions("price")
    assert {r for r, c in price if c} == {Reaction.TICK, Reaction.CART_ADD}
    assert all(r not in (Reaction.TICK, Reaction.CART_ADD) for r, c in price if not c)
    anonymous = reactions("anonymous", cart_share=1.0)
    assert Reaction.CART_ADD not in {r for r, _ in anonymous}  # no cart without an account
    silent_misses = [r for r, c in reactions("position-bias") if not c]
    assert set(silent_misses) == {Reaction.NONE}


def test_runs_reject_invalid_slates_and_measure_the_last_quarter() -> None:
    world = World(WORLDS["own-silent"], 1, 40)
    request = world.request(0)
    ids = [p.id for p in world.available(0)]
    check_slate(world, request, ids[:5])
    for bad in (ids[:4], [ids[0]] * 5, [*ids[:4], "nope"]):
        with pytest.raises(ValueError, match="invalid slate"):
            check_slate(world, request, bad)
    clicks = np.array([0] * 30 + [5] * 10, dtype=np.int16)
    run = Run("w", 1, "p", clicks, np.full(40, 5, dtype=np.int16), 1.0)
    assert run.ctr(40) == 1.0  # slates 30..39
    assert run.ctr(20) == 0.0
    with pytest.raises(ValueError):
        run.ctr(41)
    again = Run.from_json(run.to_json())
    assert again.ctr(40) == 1.0 and again.slates == 40


def test_t_intervals() -> None:
    assert t_quantile(0.975, 2) == pytest.approx(4.303, abs=1e-3)
    assert t_quantile(0.975, 1) == pytest.approx(12.706, abs=1e-3)
    assert t_quantile(0.95, 10) == pytest.approx(1.812, abs=1e-3)
    interval = t_interval([1.0, 2.0, 3.0])
    assert interval.mean == 2.0
    assert interval.half_width == pytest.approx(4.303 * 1.0 / math.sqrt(3), abs=1e-3)
    assert (interval.low, interval.high) == (
        pytest.approx(2 - interval.half_width),
        pytest.approx(2 + interval.half_width),
    )
    assert math.isnan(t_interval([0.5]).half_width)
    with pytest.raises(ValueError):
        t_interval([])


def test_suite_table_from_stored_runs(tmp_path) -> None:
    def store(policy: str, seed: int, ctr_late: float) -> None:
        clicks = np.zeros(1000, dtype=np.int16)
        clicks[750:] = round(ctr_late * 10)
        suite.save_run(tmp_path, Run("own-silent", seed, policy, clicks, np.full(1000, 10), 1.0))

    for seed, (oracle, service, random) in enumerate(((0.6, 0.3, 0.2), (0.6, 0.4, 0.2)), 1):
        store("oracle", seed, oracle)
        store("service", seed, service)
        store("random", seed, random)
    tasks = suite.plan(["own-silent"], [1, 2, 3], ["random", "oracle", "service"], 1000)
    assert [t.policy for t in tasks][-3:] == ["service"] * 3
    assert {(t.seed, t.policy) for t in suite.pending(tasks, tmp_path)} == {
        (3, "random"), (3, "oracle"), (3, "service"),
    }  # fmt: skip
    cell = suite.cell(tmp_path, "own-silent", "service", 1000, [1, 2, 3])
    assert cell.ctr.n == 2
    assert cell.of_oracle.mean == pytest.approx((0.5 + 4 / 6) / 2)
    assert cell.of_random.mean == pytest.approx((1.5 + 2.0) / 2)
    table = suite.format_table(
        tmp_path, ["own-silent"], ["random", "oracle", "service"], [1, 2, 3], [1000, 4000]
    )
    assert "(2/3 seeds)" in table and "CTR 0.600" in table and "| - |" in table
    with pytest.raises(ValueError, match="unknown policy"):
        suite.policy_names("random,magic")
    assert PopularityPolicy(1).name == "popularity"


def test_targets_compare_the_service_with_plain_vw_per_seed(tmp_path) -> None:
    def store(world: str, policy: str, seed: int, late: int, slates: int = 4000) -> None:
        clicks = np.full(slates, late, dtype=np.int16)
        suite.save_run(tmp_path, Run(world, seed, policy, clicks, np.full(slates, 10), 1.0))

    for seed, (service, anchor) in enumerate(((9, 5), (8, 6), (9, 4)), 1):
        store("own-tickcross", "oracle", seed, 10)
        store("own-tickcross", "service", seed, service)
        store("own-tickcross", "plain-vw", seed, anchor)
        store("groups-tickcross", "oracle", seed, 10, 8000)
        store("groups-tickcross", "service", seed, 5, 8000)
        store("groups-tickcross", "plain-vw", seed, 6, 8000)
    text = suite.format_targets(tmp_path, ["own-tickcross", "groups-tickcross"], [1, 2, 3])
    assert "own-tickcross: service - plain VW at 4k = 37 ± " in text
    assert "own-tickcross at 4k: 87 ± " in text and ">= 80%: met" in text
    assert "groups-tickcross: service - plain VW at 4k = -10 ± 0" in text
    assert "(3 seeds): NOT met" in text
    assert "groups-tickcross at 8k: 50 ± 0% of the oracle, target >= 75%: NOT met" in text
