"""The recommender runtime in one process: the elected learner learns every reward once and
publishes snapshots; a ranking-only runtime swaps them in; a new learner resumes exactly.

These use the session app's runtime (the learner of the test database) and extra runtimes
with `stand_for_learner=False`, which only rank, as serving processes on other machines
would. Real processes, failover and Redis are in tests/ws/test_decision_service.py.
"""

from __future__ import annotations

import asyncio

import numpy as np

from models import ModelSnapshot, RecommendationReward, User
from models.interaction import InteractionAction
from services import events
from services.auth import Viewer
from services.recommendations import decide, feedback
from services.recommendations.learning import Learner
from services.recommendations.model import VWThread, learner_from_snapshot
from services.recommendations.request import RecommendationRequest
from services.recommendations.rewards import RewardTable
from services.recommendations.runtime import RecommenderRuntime
from services.recommendations.snapshots import Position


async def _reward_some(runtime, viewer, n: int, *, start: int = 0) -> None:
    for i in range(n):
        request = RecommendationRequest(k=3, page=f"p{(start + i) % 3}")
        decision, products = await decide.recommendations(runtime, viewer, request)
        await feedback.record_interaction(
            rewards=RewardTable(), runtime=runtime, product_id=products[i % 3].id,
            action=InteractionAction.TICK if i % 2 else InteractionAction.CROSS,
            user_id=viewer.user_id, session_id=None, event_id=decision.event_id,
        )  # fmt: skip


async def _wait_for(predicate, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


async def _expected_digest() -> tuple[int, str]:
    """What a learner that learned every reward once, in order, must report."""
    position = Position()
    for reward_id, txid in (
        await RecommendationReward.all().order_by("txid", "id").values_list("id", "txid")
    ):
        position = position.after(reward_id, txid, learned=True)
    return position.learned, position.digest


async def test_the_learner_publishes_what_it_learned_exactly_once(app, catalog):
    runtime = app.state.recommender
    assert runtime.is_learner
    user = await User.create(clerk_id="user_once")
    await _reward_some(runtime, Viewer(user=user), 12)
    await runtime.learn_pending()
    await runtime.publish_snapshot()  # unless the background publisher already did
    snapshot = await runtime.store.newest()
    assert snapshot.position.learned == 12 and snapshot.term == runtime.role.term
    assert (snapshot.position.learned, snapshot.position.digest) == await _expected_digest()
    assert await runtime.publish_snapshot() is None  # nothing new: no new snapshot
    assert (await runtime.store.newest()).version == snapshot.version
    assert await ModelSnapshot.filter(id=snapshot.version).values_list("size", flat=True) == [
        len(await runtime.store.read(snapshot))
    ]


async def test_a_new_learner_resumes_from_the_snapshot_exactly(app, catalog, settings):
    runtime = app.state.recommender
    user = await User.create(clerk_id="user_resume")
    viewer = Viewer(user=user)
    await _reward_some(runtime, viewer, 12)
    await runtime.learn_pending()
    await runtime.publish_snapshot()
    await _reward_some(runtime, viewer, 8, start=12)  # logged after the snapshot
    await runtime.learn_pending()
    assert runtime.model.updates == 20
    probe = RecommendationRequest(k=1, page="p1")
    decision, _ = await decide.recommendations(runtime, viewer, probe)
    expected = await runtime.action_probabilities(decision.context, decision.candidates)

    # A learner elsewhere (its process died after the snapshot) restores it and catches up.
    snapshot = await runtime.store.newest()
    assert snapshot.position.learned == 12
    thread = VWThread("test-learn")
    try:
        data = await runtime.store.read(snapshot)
        model = await thread.call("load", learner_from_snapshot, snapshot, data)
        successor = Learner(model, snapshot.position, thread=thread, catalog=runtime.catalog)
        async with asyncio.timeout(30):
            learned = await successor.learn_committed()
        assert learned == 8 and successor.model.updates == 20
        assert successor.position == runtime.role.learner.position
        restored = await thread.call(
            "rank", successor.model.action_probabilities, decision.context, decision.candidates
        )
        np.testing.assert_allclose(restored, expected, rtol=0, atol=1e-7)
        model.close()
    finally:
        thread.close()


async def test_a_serving_runtime_swaps_in_each_announced_snapshot(app, catalog, settings):
    learner = app.state.recommender
    user = await User.create(clerk_id="user_fleet")
    viewer = Viewer(user=user)
    # The app's event bus (memory://): the learner announces its snapshots there.
    serving = RecommenderRuntime(settings, stand_for_learner=False)
    await serving.start(app.state.hub)
    try:
        assert not serving.is_learner and serving.serving.version == 0
        await _reward_some(serving, viewer, 5)  # decided (and logged) by the server
        await serving.decisions.flush()
        await learner.learn_pending()
        snapshot = await learner.publish_snapshot()
        await _wait_for(lambda: serving.serving.version == snapshot.version)
        assert serving.model.updates == 5
        assert serving.model.model_version == learner.model.model_version
        # Ranking only: the serving runtime never learns, whatever it is sent.
        await _reward_some(serving, viewer, 3, start=5)
        await serving.decisions.flush()
        assert serving.model.updates == 5
        await learner.learn_pending()
        newer = await learner.publish_snapshot()
        await _wait_for(lambda: serving.serving.version == newer.version)
        assert serving.model.updates == 8
    finally:
        await serving.stop()


async def test_a_lost_announcement_is_made_up_by_polling(app, catalog, settings):
    learner = app.state.recommender
    user = await User.create(clerk_id="user_poll")
    fast = settings.model_copy(update={"model_refresh_seconds": 0.2})
    serving = RecommenderRuntime(fast, stand_for_learner=False)
    await serving.start(None)  # no bus: announcements never arrive
    try:
        await _reward_some(learner, Viewer(user=user), 4)
        await learner.learn_pending()
        snapshot = await learner.publish_snapshot()
        await _wait_for(lambda: serving.serving.version == snapshot.version, timeout=5)
    finally:
        await serving.stop()


async def test_ignored_items_get_the_default_reward_when_the_window_closes(app, catalog):
    runtime = app.state.recommender
    user = await User.create(clerk_id="user_window")
    viewer = Viewer(user=user)
    request = RecommendationRequest(k=5, page="home")
    decision, products = await decide.recommendations(runtime, viewer, request)
    await feedback.record_interaction(
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
    assert runtime.model.updates == 4


async def test_every_reward_is_learned_once_when_feedback_races_learning(app, catalog):
    """Rewards recorded while learning passes run: none is skipped or learned twice."""
    runtime = app.state.recommender
    user = await User.create(clerk_id="user_race")
    viewer = Viewer(user=user)

    async def learn_repeatedly(stop: asyncio.Event) -> None:
        while not stop.is_set():
            await runtime.learn_pending()
            await asyncio.sleep(0)

    stop = asyncio.Event()
    learning = asyncio.create_task(learn_repeatedly(stop))
    try:
        await asyncio.gather(*(_reward_some(runtime, viewer, 6, start=i) for i in range(4)))
    finally:
        stop.set()
        await learning
    await runtime.learn_pending()
    position = runtime.role.learner.position
    assert (position.learned, position.digest) == await _expected_digest()
    assert position.learned == await RecommendationReward.all().count() == 24
    assert runtime.model.updates == 24


async def _next_event(subscription, timeout: float = 10.0):
    async with asyncio.timeout(timeout):
        return await anext(aiter(subscription))


async def test_recommendations_updated_hears_of_learning_on_the_learner_and_elsewhere(
    app, catalog, settings
):
    """The news behind `recommendationsUpdated`: the learner's process tells its own
    subscribers when it learned from their reward; a serving process when it swapped in a
    snapshot that holds it."""
    learner = app.state.recommender
    user = await User.create(clerk_id="user_news")
    channel = events.learned_channel(user_id=user.id, session_id=None)
    serving = RecommenderRuntime(settings, stand_for_learner=False)
    await serving.start(app.state.hub)
    try:
        async with (
            learner.learned.subscribe(channel) as here,
            serving.learned.subscribe(channel) as there,
        ):
            await _reward_some(learner, Viewer(user=user), 1)
            await learner.learn_pending()
            await _next_event(here)
            await learner.publish_snapshot()
            await _next_event(there)
    finally:
        await serving.stop()
