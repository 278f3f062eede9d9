"""Every world of the suite runs end to end through the service layer (both backends), the
service is given only public information, and one world runs over real HTTP."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bandit.simulation.worlds.runner import run_policy
from bandit.simulation.worlds.spec import WORLDS
from bandit.simulation.worlds.world import Reaction, World
from models import Order, Product, RecommendationEvent, RecommendationReward, User
from services.recommendations import decisions
from services.simulation import ServiceLayer, ServiceShop

ROOT = Path(__file__).resolve().parents[2]
IN_PROCESS = [name for name, spec in WORLDS.items() if spec.transport == "service"]
SLATES = 60


def _small(name: str) -> World:
    spec = WORLDS[name]
    if spec.initial_products:
        spec = replace(spec, arrival_every=25)  # two arrivals within the short run
    return World(spec, seed=1, slates=SLATES)


@pytest.mark.parametrize("name", IN_PROCESS)
async def test_each_world_runs_through_the_service_layer(app, db, name: str) -> None:
    runtime = app.state.recommender
    world = _small(name)
    layer = ServiceLayer.attached(runtime, asyncio.get_running_loop())
    outcomes = []

    def drive():
        shop = ServiceShop(layer, world.shoppers)
        feedback = shop.feedback

        def record(request, shown, outcome):
            outcomes.append(outcome)
            feedback(request, shown, outcome)

        shop.feedback = record
        return run_policy(world, shop)

    run = await asyncio.to_thread(drive)
    assert run.slates == SLATES and set(run.shown.tolist()) == {world.spec.slate_size}
    assert runtime.model.updates > 0
    await runtime.decisions.flush()
    assert await RecommendationEvent.all().count() == SLATES
    assert await Product.all().count() == len(world.available(SLATES - 1))

    # The service was told only what the API would tell it: the stated (public)
    # preferences, the page, the device, the viewed product — nothing hidden.
    public = {f"sim-{s.key}": dict(s.preferences) for s in world.shoppers}
    accounts = {u.id: u.clerk_id for u in await User.all()}
    sessions = {world.request(i).shopper.key for i in range(SLATES)}
    for event in await RecommendationEvent.all():
        context = decisions.decode(event.payload, created_at=event.created_at).context
        assert dict(context.features) == {}
        if event.user_id is not None:
            assert dict(context.preferences) == public[accounts[event.user_id]]
        else:
            assert world.spec.anonymous and event.session_id in sessions
            assert dict(context.preferences) == {}
    # Views are impressions, never learned rewards (services/recommendations/rewards.py).
    not_learned = {Reaction.NONE, Reaction.CART_ADD, Reaction.VIEW}
    feedback = {r for o in outcomes for r in o.reactions} - not_learned
    rewarded = set(await RecommendationReward.all().values_list("action", flat=True))
    assert {r.value for r in feedback} <= rewarded
    if any(o.checkout for o in outcomes):
        assert await Order.all().count() == sum(o.checkout for o in outcomes)


@pytest.mark.slow
def test_a_world_runs_over_http(tmp_path) -> None:
    """The HTTP world through the CLI: a live uvicorn server and the public GraphQL API."""
    env = {**os.environ, "DATA_DIR": str(tmp_path), "ENV": "test"}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "bandit", "simulate", "--world", "http-tickcross",
         "--slates", "60", "--seeds", "1", "--policies", "random,oracle,service",
         "--results", str(tmp_path / "runs")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "| http-tickcross | oracle |" in result.stdout
    assert (tmp_path / "runs" / "http-tickcross" / "seed1" / "service.json").exists()
