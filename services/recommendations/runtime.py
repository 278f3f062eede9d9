"""A process's recommender: what it ranks with, what it logs, and (maybe) the learner role.

Built once per process by `app.py` (or `shop learner`, the simulation, a test) and handed
to resolvers on the request Context; nothing about it is global.

Every serving process:
- keeps the candidate index (`candidates`) and the decision log writer (`decision_log`);
- ranks with the newest model snapshot on its VW thread (`model.ServingModel`): loaded at
  start, swapped when the learner announces a newer one on the event bus, and looked for
  every `MODEL_REFRESH_SECONDS` in case an announcement was lost;
- tells its local `recommendationsUpdated` subscribers when a snapshot it swapped in has
  learned from their rewards.

With `LEARNER_MODE=elected` it also stands for learner (`learner.LearnerRole`); the elected
process ranks with the learner's live model, so the embedded default -- one process on
SQLite -- still does everything by itself, as fresh as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

import numpy as np

from bandit.features import ActionFeatures, ContextFeatures
from bandit.learner import BanditLearner, ModelClosed
from bandit.slates import Slate
from core.background import cancel_tasks
from core.settings import Settings
from core.sql import SqlBuilder
from live import EventHub
from services import events
from services.recommendations.cache import TTLCache
from services.recommendations.candidates import CatalogIndexHolder
from services.recommendations.decision_log import DecisionLog
from services.recommendations.learner import LearnerRole
from services.recommendations.learning import Shopper
from services.recommendations.model import ServingModel, VWThread
from services.recommendations.snapshots import CHANNEL, Position, Snapshot, SnapshotStore

logger = logging.getLogger("shopgraph.recommendations.runtime")

ELECTION_SETTLE_SECONDS = 5.0


class RecommenderRuntime:
    def __init__(self, settings: Settings, *, stand_for_learner: bool | None = None) -> None:
        self.settings = settings
        self.catalog = CatalogIndexHolder(max_age=settings.catalog_refresh_seconds)
        self.decisions = DecisionLog()
        # (user id, session id) -> recent categories, a context feature read per request.
        self.shopper_signals = TTLCache(ttl=5.0)
        self.learned = EventHub.from_url("memory://")  # local "a reward was learned" news
        self.store = SnapshotStore(settings)
        self.thread = VWThread("vw-rank")
        self.serving = ServingModel(self.store, self.thread)
        if stand_for_learner is None:
            stand_for_learner = settings.learner_mode == "elected"
        self.role = (
            LearnerRole(
                settings,
                store=self.store,
                catalog=self.catalog,
                hub=lambda: self._hub,
                before_sweep=self.decisions.flush,
                on_elected=self.serving.follow,
                on_learned=self._tell_learned,
                on_published=self.serving.published,
                on_stepped_down=self._after_stepping_down,
            )
            if stand_for_learner
            else None
        )
        self._hub: EventHub | None = None
        self._tasks: list[asyncio.Task] = []

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self, hub: EventHub | None) -> None:
        self._hub = hub
        await self.learned.connect()
        await self.catalog.load()
        await self.serving.refresh("start")
        self.catalog.start()
        self.decisions.start()
        if hub is not None:
            follows: list[tuple[str, Callable[[dict], object]]] = [
                (events.CATALOG, lambda _: self.catalog.mark_dirty()),
                (events.INVENTORY, lambda _: self.catalog.mark_dirty()),
                (CHANNEL, self._announced),
            ]
            if self.role is not None:
                follows.append((events.REWARDS, lambda _: self.role.wake()))
            for channel, action in follows:
                ready = asyncio.Event()
                self._tasks.append(asyncio.create_task(self._follow(hub, channel, action, ready)))
                await ready.wait()
        self._tasks.append(asyncio.create_task(self._poll_forever(), name="model-refresh"))
        if self.role is not None:
            self.role.start()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(ELECTION_SETTLE_SECONDS):
                    await self.role.settled.wait()
        logger.info(
            "recommender ready: %s, %d candidates, model %s",
            "the learner" if self.is_learner else "ranking only",
            len(self.catalog.index), self.model.model_version,
        )  # fmt: skip

    async def stop(self) -> None:
        """Stop: decisions written, and -- as the learner -- a last pass and snapshot."""
        await cancel_tasks(self._tasks)
        self._tasks.clear()
        await self.catalog.stop()
        await self.decisions.stop()
        if self.role is not None:
            await self.role.stop()
        self.serving.close()
        self.thread.close()
        await self.learned.disconnect()

    async def _follow(self, hub: EventHub, channel: str, action, ready: asyncio.Event) -> None:
        async with hub.subscribe(channel) as stream:
            ready.set()
            async for event in stream:
                try:
                    await _maybe_await(action(event.payload))
                except Exception:
                    logger.exception("handling a %s event failed", channel)

    # --- ranking --------------------------------------------------------------------------

    @property
    def model(self) -> BanditLearner:
        """The model this process ranks with right now."""
        return self.serving.learner

    @property
    def is_learner(self) -> bool:
        return self.role is not None and self.role.elected.is_set()

    async def rank(
        self, context: ContextFeatures, candidates: Sequence[ActionFeatures], k: int, *, seed: int
    ) -> Slate:
        for _attempt in range(3):
            model = self.serving.learner
            try:
                return await self.thread.call("rank", model.rank, context, candidates, k, seed=seed)
            except ModelClosed:
                continue  # swapped out under this call: rank with its replacement
        raise ModelClosed("the model kept being replaced")

    async def action_probabilities(
        self, context: ContextFeatures, candidates: Sequence[ActionFeatures]
    ) -> np.ndarray:
        for _attempt in range(3):
            model = self.serving.learner
            try:
                return await self.thread.call(
                    "rank", model.action_probabilities, context, candidates
                )
            except ModelClosed:
                continue
        raise ModelClosed("the model kept being replaced")

    # --- snapshots ------------------------------------------------------------------------

    async def _announced(self, payload: dict) -> None:
        version = payload.get("version")
        if isinstance(version, int) and version > self.serving.version:
            await self._refresh("announcement")

    async def _poll_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.model_refresh_seconds)
            try:
                if await self.store.latest_version() > self.serving.version:
                    await self._refresh("poll")
            except Exception:
                logger.exception("looking for a newer model snapshot failed; will retry")

    async def _refresh(self, trigger: str) -> bool:
        before = self.serving.snapshot
        swapped = await self.serving.refresh(trigger)
        if swapped and self.serving.snapshot is not None:
            await self._tell_swapped(before, self.serving.snapshot)
        return swapped

    async def _after_stepping_down(self) -> None:
        self.serving.unfollow()
        await self._refresh("start")

    # --- learned news for recommendationsUpdated --------------------------------------------

    async def _tell_learned(self, shoppers: set[Shopper]) -> None:
        listening = self.learned.channels
        for shopper in shoppers:
            channel = events.learned_channel(user_id=shopper.user_id, session_id=shopper.session_id)
            if channel in listening:
                await self.learned.publish(channel, {})

    async def _tell_swapped(self, before: Snapshot | None, after: Snapshot) -> None:
        if not self.learned.channels:
            return
        start = before.position if before is not None else Position()
        await self._tell_learned(await shoppers_between(start, after.position))

    # --- the learner's work, for callers that drive it (tests, the simulation, commands) ------

    def notify_reward(self) -> None:
        """Wake this process's learner now (the bus event wakes it too)."""
        if self.role is not None:
            self.role.wake()

    async def learn_pending(self) -> int:
        """As the learner: learn every reward committed so far, now (waiting at most 30 s
        for older write transactions to end); returns how many."""
        async with asyncio.timeout(30):
            return await self._role().learn_committed()

    async def close_windows(self, *, older_than: float | None = None) -> int:
        """As the learner: close the reward windows older than `older_than` seconds."""
        return await self._role().close_windows(older_than=older_than)

    async def publish_snapshot(self) -> Snapshot | None:
        """As the learner: publish a snapshot now (None if nothing new was learned)."""
        return await self._role().publish()

    async def purge_decision_log(self) -> int:
        """As the learner: purge the decisions past the retention now."""
        return await self._role().purge()

    @contextlib.asynccontextmanager
    async def learning_paused(self):
        """Nobody learns in this process during the block; afterwards the learner starts
        again from the newest snapshot, or from an untrained model at the beginning of the
        log when the block emptied the database (tests, benchmarks)."""
        if self.role is None:
            yield
            self.serving.reset()
            return
        async with self.role.paused():
            yield
        if not self.role.elected.is_set():
            self.serving.reset()

    def _role(self) -> LearnerRole:
        if self.role is None or self.role.learner is None:
            raise RuntimeError("this process is not the recommendation learner")
        return self.role


async def shoppers_between(start: Position, end: Position, limit: int = 10_000) -> set[Shopper]:
    """The shoppers whose rewards lie after `start` and at or before `end`."""
    q = SqlBuilder()
    if q.postgres:
        after = f"(r.txid, r.id) > ({q.param(start.txid)}, {q.param(start.reward_id)})"
        upto = f"(r.txid, r.id) <= ({q.param(end.txid)}, {q.param(end.reward_id)})"
    else:
        after = f"r.id > {q.param(start.reward_id)}"
        upto = f"r.id <= {q.param(end.reward_id)}"
    rows = await q.rows(
        "SELECT DISTINCT e.user_id AS user_id, e.session_id AS session_id "  # noqa: S608
        "FROM recommendation_rewards r JOIN recommendation_events e ON e.id = r.event_id "
        f"WHERE {after} AND {upto} LIMIT {int(limit)}"
    )
    return {Shopper(r["user_id"], r["session_id"]) for r in rows}


async def _maybe_await(value: object) -> None:
    if asyncio.iscoroutine(value):
        await value
