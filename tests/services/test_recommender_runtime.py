"""The recommender runtime: exact replay after a restart, learning shared across processes."""

from __future__ import annotations

import asyncio

import numpy as np

from live import EventHub
from models import RecommendationReward, User
from models.interaction import InteractionAction
from services import events, interactions, recommendations
from services.auth import Viewer
from services.recommender import RecommenderRuntime
from services.rewards import RewardTable


async def _runtime(settings, tmp_path, hub=None) -> RecommenderRuntime:
    runtime = RecommenderRuntime(settings.model_copy(update={"model_dir": tmp_path}))
    await runtime.start(hub)
    return runtime


async def _reward_some(runtime, viewer, n: int, *, start: int = 0) -> None:
    for i in range(n):
        request = recommendations.RecommendationRequest(k=3, page=f"p{(start + i) % 3}")
        decision, products = await recommendations.recommend(runtime, viewer, request)
        await interactions.record_feedback(
            rewards=RewardTable(), runtime=runtime, product_id=products[i % 3].id,
            action=InteractionAction.TICK if i % 2 else InteractionAction.CROSS,
            user_id=viewer.user_id, session_id=None, event_id=decision.event_id,
        )  # fmt: skip


async def _wait_for(predicate, timeout: float = 3.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


async def test_restart_restores_the_checkpoint_and_replays_the_rest(settings, catalog, tmp_path):
    user = await User.create(clerk_id="user_replay")
    viewer = Viewer(user=user)
    first = await _runtime(settings, tmp_path)
    try:
        await _reward_some(first, viewer, 12)
        await first.learn_pending()
        assert first.learner.updates == 12
        assert first.checkpoint(force=True)
        await _reward_some(first, viewer, 8, start=12)  # logged after the checkpoint
        await first.learn_pending()
        assert first.learner.updates == 20
        probe = recommendations.RecommendationRequest(k=1, page="p1")
        decision, _ = await recommendations.recommend(first, viewer, probe)
        expected = first.learner.action_probabilities(decision.context, decision.candidates)
    finally:
        # Crash-like stop: no shutdown checkpoint, so the restart must replay 8 rewards.
        first._checkpoint_lock_file.close()
        first._checkpoint_lock_file = None
        await first.stop()
    assert len(list(tmp_path.glob("bandit-*.json"))) == 1

    second = await _runtime(settings, tmp_path)
    try:
        # Restored at 12 updates; the 8 rewards after the checkpoint are replayed by the
        # learning loop in the background. learn_pending waits for (or runs) that pass.
        await second.learn_pending()
        assert second.learner.updates == 20
        last = await RecommendationReward.all().order_by("-id").first()
        assert second.learner.last_sequence == last.id
        restored = second.learner.action_probabilities(decision.context, decision.candidates)
        np.testing.assert_allclose(restored, expected, rtol=0, atol=1e-7)
    finally:
        await second.stop()


async def test_every_process_learns_every_reward(settings, catalog, tmp_path, monkeypatch):
    user = await User.create(clerk_id="user_fleet")
    viewer = Viewer(user=user)
    async with EventHub.from_url("memory://") as bus:
        # Both "processes" publish to and follow this bus; no polling (tests poll hourly).
        monkeypatch.setattr(events._Bus, "hub", bus)
        web_1 = await _runtime(settings, tmp_path / "one", bus)
        web_2 = await _runtime(settings, tmp_path / "two", bus)
        try:
            await _reward_some(web_1, viewer, 5)
            await _wait_for(lambda: web_2.learner.updates == 5)
            await _wait_for(lambda: web_1.learner.updates == 5)
            await _reward_some(web_2, viewer, 3)
            await _wait_for(lambda: web_1.learner.updates == 8)
        finally:
            await web_1.stop()
            await web_2.stop()


async def test_ignored_items_get_the_default_reward_when_the_window_closes(
    settings, catalog, tmp_path
):
    user = await User.create(clerk_id="user_window")
    viewer = Viewer(user=user)
    runtime = await _runtime(settings, tmp_path)
    try:
        request = recommendations.RecommendationRequest(k=5, page="home")
        decision, products = await recommendations.recommend(runtime, viewer, request)
        await interactions.record_feedback(
            rewards=RewardTable(), runtime=runtime, product_id=products[1].id,
            action=InteractionAction.TICK, user_id=user.id, session_id=None,
            event_id=decision.event_id,
        )  # fmt: skip
        await runtime.decisions.flush()
        assert await runtime.close_windows(older_than=3600) == 0  # window still open
        logged = await runtime.close_windows(older_than=0)
        # Slots 0, 2 and 3 were ignored (slot 1 was ticked, slot 4 is below the default slots).
        assert logged == 3
        defaults = await RecommendationReward.filter(action="none").order_by("slot")
        assert [r.slot for r in defaults] == [0, 2, 3]
        assert all(r.reward == 0.0 and r.interaction_id is None for r in defaults)
        assert await runtime.close_windows(older_than=0) == 0  # closed once
        await runtime.learn_pending()
        assert runtime.learner.updates == 4
    finally:
        await runtime.stop()
