"""Self-tuning on a real decision log (both backends): shoppers act through the service
layer while the shop runs a poor configuration; the tuner promotes a better one, the
learner and the serving model switch to it, the promotion is on record and visible in
admin analytics over GraphQL; then the rollback restores the old configuration."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, replace

import pytest

from bandit.learner import BanditLearner, LearnerConfig
from bandit.simulation.worlds.runner import run_policy
from bandit.simulation.worlds.spec import WORLDS
from bandit.simulation.worlds.world import World
from bandit.tuning import Candidate, format_result
from models import ModelPromotion, ModelSnapshot
from services.recommendations import tuning
from services.recommendations.snapshots import Position
from services.simulation import ServiceLayer, ServiceShop
from tests.support.graphql import gql_data

# Pure exploration: every slot drawn uniformly. A plausible misconfiguration, and the
# uniform propensities keep the off-policy estimates of any candidate well conditioned.
EXPLORE_ALL = LearnerConfig(explorer="epsilon", epsilon=1.0)
# Own tastes, one liked category of five, twenty products: the best policy clicks ~0.6.
SMALL_SHOP = replace(
    WORLDS["own-silent"], name="tuning", n_products=20, n_categories=5, n_brands=4,
    liked_categories=1, n_shoppers=20,
)  # fmt: skip
SLATES = 600

HISTORY = """
{ analytics { modelPromotions {
    id kind at candidate fromConfig toConfig estimator currentEstimate estimate
    lowerBound upperBound trainRecords evaluatedRecords snapshotVersion reverts rolledBackAt
    evidence
} } }
"""


async def _until(condition, what: str, timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.05)


async def _run_with(runtime, config: LearnerConfig) -> None:
    """Make the shop's learner (and the model it ranks with) start from an untrained model
    of `config`, as if it had always run it."""
    async with runtime.learning_paused():
        model = BanditLearner(config)
        data, state = model.model_bytes()
        model.close()
        await runtime.store.publish(
            term=0, model_version=f"{model.run_id}:{state.updates}", config=asdict(config),
            position=Position(), data=data, take_over="test",
        )  # fmt: skip
    await _until(
        lambda: runtime.is_learner and runtime.model.config == config, "the learner restarts"
    )


async def test_tune_promotes_a_better_configuration_and_rollback_restores(
    app, db, client, admin, settings
) -> None:
    runtime = app.state.recommender
    await _run_with(runtime, EXPLORE_ALL)
    layer = ServiceLayer.attached(runtime, asyncio.get_running_loop())
    world = World(SMALL_SHOP, seed=3, slates=SLATES)
    await asyncio.to_thread(lambda: run_policy(world, ServiceShop(layer, world.shoppers)))
    await runtime.decisions.flush()
    await runtime.close_windows(older_than=0)
    await runtime.learn_pending()
    assert runtime.model.config == EXPLORE_ALL

    tuned = settings.model_copy(update={"tune_min_evaluated": 300})
    candidates = [
        Candidate("default", LearnerConfig()),
        Candidate("explore-all-fast", replace(EXPLORE_ALL, learning_rate=2.0)),
    ]
    # A dry run decides and changes nothing.
    dry = await tuning.tune(tuned, store=runtime.store, candidates=candidates, dry_run=True)
    assert dry.result is not None and dry.result.promoted is not None
    assert dry.promotion is None and await ModelPromotion.all().count() == 0
    before = await runtime.store.newest()

    outcome = await tuning.tune(
        tuned, store=runtime.store, candidates=candidates, catalog=runtime.catalog
    )
    result = outcome.result
    assert result is not None and result.promoted is not None, format_result(result)
    assert result.promoted.name == "default"
    assert result.n_records == SLATES * SMALL_SHOP.slate_size
    assert result.promoted.lower_bound("SNIPS", result.z) > result.current.value("SNIPS")

    # The promoted configuration is the newest snapshot, warm-started from the whole log.
    snapshot = await runtime.store.newest()
    assert snapshot.version == outcome.snapshot.version > before.version
    assert LearnerConfig.from_dict(snapshot.config) == LearnerConfig()
    assert snapshot.position.learned > 0 and snapshot.position.learned >= before.position.learned
    # The running learner steps down, resumes from it, and ranks with it.
    await _until(
        lambda: runtime.is_learner and runtime.model.config == LearnerConfig(),
        "the learner runs the promoted configuration",
    )
    row = await ModelPromotion.get(id=outcome.promotion.id)
    assert (row.kind, row.candidate, row.snapshot_version) == (
        "promotion", "default", snapshot.version,
    )  # fmt: skip
    assert LearnerConfig.from_dict(row.from_config) == EXPLORE_ALL
    assert LearnerConfig.from_dict(row.to_config) == LearnerConfig()
    assert row.lower_bound > row.current_estimate and row.estimate > row.lower_bound
    assert row.n_train + row.n_evaluated == result.n_records and row.rolled_back_at is None
    assert {c["name"] for c in row.evidence["candidates"]} == {"default", "explore-all-fast"}

    # Rollback: the replaced configuration comes back, warm-started, and is recorded.
    done = await tuning.rollback(tuned, store=runtime.store, catalog=runtime.catalog)
    restored = await runtime.store.newest()
    assert restored.version == done.snapshot.version > snapshot.version
    assert LearnerConfig.from_dict(restored.config) == EXPLORE_ALL
    assert restored.position.learned >= snapshot.position.learned
    await _until(
        lambda: runtime.is_learner and runtime.model.config == EXPLORE_ALL,
        "the learner runs the restored configuration",
    )
    assert done.reverted.rolled_back_at is not None
    assert (done.rollback.kind, done.rollback.reverts) == ("rollback", row.id)
    with pytest.raises(tuning.NothingToRollBack):
        await tuning.rollback(tuned, store=runtime.store)
    assert await ModelSnapshot.filter(id=restored.version).exists()

    # Both are visible to an admin over GraphQL.
    data = await gql_data(client, HISTORY, token=admin)
    rollback_row, promotion_row = data["analytics"]["modelPromotions"]
    assert rollback_row["kind"] == "rollback" and rollback_row["reverts"] == row.id
    assert promotion_row["kind"] == "promotion" and promotion_row["candidate"] == "default"
    assert promotion_row["rolledBackAt"] is not None
    assert promotion_row["lowerBound"] > promotion_row["currentEstimate"]
    assert promotion_row["evaluatedRecords"] == result.n_evaluated
    assert promotion_row["toConfig"]["explorer"] == "squarecb"
    assert promotion_row["fromConfig"]["epsilon"] == 1.0
    assert promotion_row["evidence"]["estimator"] == "SNIPS"


async def test_the_learner_tunes_on_its_schedule(app, db, monkeypatch, settings) -> None:
    """With TUNE_EVERY_HOURS the elected learner runs the tuner, with its own store,
    catalog and bus, every period while it leads (the tuning itself is tested above)."""
    runtime = app.state.recommender
    calls: list[dict] = []
    twice = asyncio.Event()

    async def spy(given_settings, **kwargs):
        calls.append(kwargs)
        if len(calls) >= 2:
            twice.set()
        return tuning.TuneOutcome(0, None, None, None, "spied")

    monkeypatch.setattr(tuning, "tune", spy)
    role = runtime.role
    original = role.settings
    async with runtime.learning_paused():
        role.settings = settings.model_copy(update={"tune_every_hours": 0.2 / 3600})
    try:
        async with asyncio.timeout(30):
            await twice.wait()
    finally:
        async with runtime.learning_paused():
            role.settings = original
    assert calls[0]["store"] is runtime.store and calls[0]["catalog"] is runtime.catalog
