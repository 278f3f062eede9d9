"""The process's recommender: one VW learner, the candidate index, the decision log, and the
learning loop that turns rewards into model updates.

Learning is off the request path and exact:

- A reward on a recommended item is committed as a `RecommendationReward` row, then a
  `rewards:all` event goes out on the event bus. Every process — one or many workers, on one
  or many machines — wakes its learning loop on that event and learns the new rows *from the
  database*, in id order, so every worker's model learns every reward once, and a reward
  whose event was lost (a Redis outage) is still learned by the next poll (every
  `LEARN_POLL_SECONDS`).
- The model is checkpointed every `CHECKPOINT_EVERY` updates and on shutdown, by one process
  per model directory (a file lock elects it). On start a process loads the newest
  checkpoint and replays the rewards logged after it, so a restart loses no learning.
- Decisions (`RecommendationEvent`) are written in small batches by a background task; a
  reward on a decision not yet written forces that batch out first.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from bandit.features import ActionFeatures, ContextFeatures
from bandit.learner import BanditLearner, LearnerConfig
from bandit.slates import Slate, SlateItem
from core import metrics
from core.settings import Settings
from live import EventHub
from models import Product, RecommendationEvent, RecommendationReward
from services import events
from services.candidates import (
    CatalogIndex,
    CatalogIndexHolder,
    action_features,
    with_logged_state,
)
from services.rewards import DEFAULT_SIGNAL

logger = logging.getLogger("shopgraph.recommender")

REWARDS_CHANNEL = "rewards:all"
WRITE_CHUNK = 8
DEFAULT_ACTION = DEFAULT_SIGNAL  # the action of a default reward is its signal, `none`
LEARN_BATCH = 500
GAP_PATIENCE_SECONDS = 30.0


@dataclass
class Decision:
    """A slate as decided: enough to log it and to learn any reward on it exactly."""

    event_id: str
    user_id: int | None
    session_id: str | None
    context: ContextFeatures
    candidates: tuple[ActionFeatures, ...]
    slate: Slate
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def slot_of(self, product_id: int) -> SlateItem | None:
        for item in self.slate.items:
            if item.action_id == product_id:
                return item
        return None

    def to_row(self) -> RecommendationEvent:
        return RecommendationEvent(
            event_id=self.event_id,
            user_id=self.user_id,
            session_id=self.session_id,
            context=context_to_json(self.context),
            candidate_ids=[c.action_id for c in self.candidates],
            candidate_state=[
                [None if c.price is None else str(c.price), c.popularity, c.created_days_ago]
                for c in self.candidates
            ],
            items=[
                {
                    "productId": i.action_id,
                    "slot": i.slot,
                    "probability": i.probability,
                    "score": i.score,
                }
                for i in self.slate.items
            ],
            model_version=self.slate.model_version,
            created_at=self.created_at,
        )


def context_to_json(context: ContextFeatures) -> dict[str, Any]:
    data = asdict(context)
    data["timestamp"] = context.timestamp.isoformat() if context.timestamp else None
    data["recent_categories"] = list(context.recent_categories)
    return data


def context_from_json(data: dict[str, Any]) -> ContextFeatures:
    values = dict(data)
    if values.get("timestamp"):
        values["timestamp"] = datetime.fromisoformat(values["timestamp"])
    values["recent_categories"] = tuple(values.get("recent_categories") or ())
    known = ContextFeatures.__dataclass_fields__
    return ContextFeatures(**{k: v for k, v in values.items() if k in known})


class TTLCache:
    """A small bounded cache whose entries expire after `ttl` seconds."""

    def __init__(self, *, ttl: float, max_entries: int = 50_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[Any, tuple[Any, float]] = OrderedDict()

    def get(self, key: Any) -> Any | None:
        entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry[1] > self.ttl:
            return None
        return entry[0]

    def put(self, key: Any, value: Any) -> None:
        self._entries[key] = (value, time.monotonic())
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def forget(self, key: Any) -> None:
        self._entries.pop(key, None)


class DecisionLog:
    """Recent decisions in memory (bounded) and a batched writer to the database."""

    def __init__(self, *, cache_size: int = 20_000, flush_interval: float = 0.05) -> None:
        self._recent: OrderedDict[str, Decision] = OrderedDict()
        self._pending: dict[str, Decision] = {}
        self._writing: set[str] = set()
        self._cache_size = cache_size
        self._flush_interval = flush_interval
        self._wakeup = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task | None = None

    def record(self, decision: Decision) -> None:
        self._recent[decision.event_id] = decision
        while len(self._recent) > self._cache_size:
            self._recent.popitem(last=False)
        self._pending[decision.event_id] = decision
        self._wakeup.set()

    def recent(self, event_id: str) -> Decision | None:
        return self._recent.get(event_id)

    async def ensure_written(self, event_id: str) -> None:
        if event_id in self._pending or event_id in self._writing:
            await self.flush()  # waits for a write in progress, then writes what is left

    async def flush(self) -> None:
        async with self._lock:
            if not self._pending:
                return
            batch, self._pending = list(self._pending.values()), {}
            self._writing = {d.event_id for d in batch}
            written = 0
            try:
                # Small chunks, yielding in between: requests keep being served while a
                # big batch is written (this runs on the same event loop).
                while written < len(batch):
                    chunk = batch[written : written + WRITE_CHUNK]
                    try:
                        await RecommendationEvent.bulk_create([d.to_row() for d in chunk])
                    except IntegrityError:
                        await self._write_one_by_one(chunk)
                    written += len(chunk)
                    await asyncio.sleep(0)
            except Exception:
                # Keep the unwritten ones for the next attempt: the propensity log is kept.
                for decision in batch[written:]:
                    self._pending.setdefault(decision.event_id, decision)
                raise
            finally:
                self._writing = set()

    @staticmethod
    async def _write_one_by_one(batch: list[Decision]) -> None:
        """One bad row (say, its user was deleted meanwhile) must not block the others."""
        for decision in batch:
            row = decision.to_row()
            try:
                await row.save()
            except IntegrityError:
                row.user_id = None  # the account is gone: keep the decision, anonymously
                try:
                    await RecommendationEvent(
                        **{
                            f: getattr(row, f)
                            for f in RecommendationEvent._meta.db_fields
                            if f != "id"
                        }
                    ).save()
                except IntegrityError:
                    logger.warning("dropping recommendation decision %s", decision.event_id)

    def start(self) -> None:
        self._task = asyncio.create_task(self._write_forever(), name="decision-log")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()

    async def _write_forever(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            await asyncio.sleep(self._flush_interval)  # gather a batch
            try:
                await self.flush()
            except Exception:
                logger.exception("writing recommendation decisions failed; will retry")
                await asyncio.sleep(1.0)
                self._wakeup.set()


class RecommenderRuntime:
    def __init__(self, settings: Settings, *, learner: BanditLearner | None = None) -> None:
        self.settings = settings
        self.model_dir = Path(settings.model_dir or settings.data_dir / "models")
        self.learner = learner or BanditLearner(LearnerConfig())
        self.catalog = CatalogIndexHolder(max_age=settings.catalog_refresh_seconds)
        self.decisions = DecisionLog()
        # (user id, session id) -> recent categories, a context feature read per request.
        self.recent_categories = TTLCache(ttl=5.0)
        self.learned = EventHub.from_url("memory://")  # local "a reward was learned" news
        self._learn_wakeup = asyncio.Event()
        self._learning = asyncio.Lock()
        self._reward_sum = 0.0  # of rewards learned since this process started
        self._reward_count = 0
        self._tasks: list[asyncio.Task] = []
        self._gaps: dict[int, float] = {}
        self._last_checkpoint_updates = 0
        self._checkpoint_lock_file: Any = None

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self, hub: EventHub | None) -> None:
        self.model_dir.mkdir(parents=True, exist_ok=True)
        restored = await asyncio.to_thread(BanditLearner.load_latest, self.model_dir)
        if restored is not None:
            self.learner.close()
            self.learner = restored
        self._last_checkpoint_updates = self.learner.updates
        self._take_checkpoint_lock()
        await self.learned.connect()
        await self.catalog.load()
        # Rewards logged after the checkpoint are replayed by the learning loop's first
        # pass, in the background: serving starts at once with the restored model.
        self._learn_wakeup.set()
        logger.info(
            "recommender ready: model %s (last reward %s), %d candidates",
            self.learner.model_version, self.learner.last_sequence, len(self.catalog.index),
        )  # fmt: skip
        self.catalog.start()
        self.decisions.start()
        self._tasks.append(asyncio.create_task(self._learn_forever(), name="learning-loop"))
        if self.closes_windows:
            self._tasks.append(asyncio.create_task(self._close_windows_forever(), name="windows"))
        if hub is not None:
            for channel, action in (
                (REWARDS_CHANNEL, self._learn_wakeup.set),
                (events.CATALOG, self.catalog.mark_dirty),
                (events.INVENTORY, self.catalog.mark_dirty),
            ):
                ready = asyncio.Event()
                self._tasks.append(asyncio.create_task(self._follow(hub, channel, action, ready)))
                await ready.wait()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.catalog.stop()
        await self.decisions.stop()
        await self.learn_pending()
        self.checkpoint(force=True)
        await self.learned.disconnect()
        if self._checkpoint_lock_file is not None:
            self._checkpoint_lock_file.close()
            self._checkpoint_lock_file = None

    async def _follow(self, hub: EventHub, channel: str, action, ready: asyncio.Event) -> None:
        async with hub.subscribe(channel) as stream:
            ready.set()
            async for _event in stream:
                action()

    # --- checkpoints ----------------------------------------------------------------------

    def _take_checkpoint_lock(self) -> None:
        handle = (self.model_dir / "checkpoint.lock").open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            logger.info("another process writes this model directory's checkpoints")
            return
        self._checkpoint_lock_file = handle

    def checkpoint(self, *, force: bool = False) -> bool:
        if self._checkpoint_lock_file is None:
            return False
        due = self.learner.updates - self._last_checkpoint_updates >= self.settings.checkpoint_every
        if not (force or due) or self.learner.updates == self._last_checkpoint_updates:
            return False
        self.learner.save(self.model_dir)
        self._last_checkpoint_updates = self.learner.updates
        return True

    # --- reward windows -------------------------------------------------------------------

    @property
    def closes_windows(self) -> bool:
        """Only the checkpoint writer closes windows (the unique key keeps others harmless)."""
        return self._checkpoint_lock_file is not None

    async def close_windows(self, *, older_than: float | None = None) -> int:
        """Give the default reward to shown items nobody reacted to within the window.

        Without these examples the model would only ever hear about items someone clicked
        or crossed, never about the ones shoppers silently ignored. Returns how many default
        rewards were logged; the learning loop learns them like any other reward.
        """
        window = self.settings.reward_window_seconds if older_than is None else older_than
        cutoff = datetime.now(UTC) - timedelta(seconds=window)
        logged = 0
        while True:
            events = (
                await RecommendationEvent.filter(closed=False, created_at__lte=cutoff)
                .order_by("id")
                .limit(500)
            )
            if not events:
                break
            rewarded: set[tuple[int, int]] = set(
                await RecommendationReward.filter(event_id__in=[e.id for e in events]).values_list(
                    "event_id", "product_id"
                )
            )
            defaults = [
                RecommendationReward(
                    event_id=event.id,
                    product_id=item["productId"],
                    action=DEFAULT_ACTION,
                    signal=DEFAULT_SIGNAL,
                    reward=self.settings.default_reward,
                    slot=item["slot"],
                    probability=item["probability"],
                )
                for event in events
                for item in event.items
                if item["slot"] < self.settings.default_reward_slots
                and (event.id, item["productId"]) not in rewarded
            ]
            async with in_transaction():
                if defaults:
                    await RecommendationReward.bulk_create(defaults, ignore_conflicts=True)
                await RecommendationEvent.filter(id__in=[e.id for e in events]).update(closed=True)
            logged += len(defaults)
        if logged:
            self._learn_wakeup.set()
        return logged

    async def _close_windows_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.reward_window_sweep_seconds)
            try:
                await self.decisions.flush()
                await self.close_windows()
            except Exception:
                logger.exception("closing reward windows failed; will retry")

    # --- learning -------------------------------------------------------------------------

    def notify_reward(self) -> None:
        """Wake this process's loop now (the bus event wakes the others)."""
        self._learn_wakeup.set()

    async def _learn_forever(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.learn_poll_seconds):
                    await self._learn_wakeup.wait()
            self._learn_wakeup.clear()
            try:
                await self.learn_pending()
                if self.checkpoint():
                    logger.debug("checkpointed model %s", self.learner.model_version)
            except Exception:
                logger.exception("learning from rewards failed; will retry")
                await asyncio.sleep(1.0)

    async def learn_pending(self) -> int:
        """Learn every committed reward this model has not learned yet; returns the count."""
        # One pass at a time: two interleaved passes would each see the other's higher
        # sequence numbers and skip rows as already learned.
        async with self._learning:
            return await self._learn_pending()

    async def _learn_pending(self) -> int:
        learned = 0
        while True:
            after = self.learner.last_sequence or 0
            rows = await RecommendationReward.filter(id__gt=after).order_by("id").limit(LEARN_BATCH)
            gap_rows = []
            if self._gaps:
                gap_rows = await RecommendationReward.filter(id__in=list(self._gaps))
            if not rows and not gap_rows:
                self._expire_gaps()
                return learned
            self._note_gaps(after, [r.id for r in rows])
            for row in gap_rows:
                self._gaps.pop(row.id, None)
            learned += await self._learn_rows(gap_rows, in_sequence=False)
            learned += await self._learn_rows(rows, in_sequence=True)
            if len(rows) < LEARN_BATCH:
                self._expire_gaps()
                return learned

    def _note_gaps(self, after: int, ids: list[int]) -> None:
        # Ids are handed out before commit, so a later id can commit first; remember the
        # missing ones for a while instead of skipping them for good.
        expected = after + 1
        now = time.monotonic()
        for row_id in ids:
            for missing in range(expected, row_id):
                if len(self._gaps) < 10_000:
                    self._gaps.setdefault(missing, now)
            expected = row_id + 1

    def _expire_gaps(self) -> None:
        cutoff = time.monotonic() - GAP_PATIENCE_SECONDS
        for missing in [i for i, seen in self._gaps.items() if seen < cutoff]:
            del self._gaps[missing]

    async def _learn_rows(self, rows: list[RecommendationReward], *, in_sequence: bool) -> int:
        if not rows:
            return 0
        logged = await RecommendationEvent.filter(id__in={r.event_id for r in rows})
        by_pk = {event.id: event for event in logged}
        rebuilt: dict[int, Decision] = {}  # rewards of one decision often come together
        learned = 0
        for row in rows:
            event = by_pk.get(row.event_id)
            if event is None:
                continue
            decision = self.decisions.recent(event.event_id) or rebuilt.get(event.id)
            if decision is None:
                decision = await rebuild_decision(event, self.catalog.index)
                if decision is not None:
                    rebuilt[event.id] = decision
            if decision is None or decision.slot_of(row.product_id) is None:
                logger.warning("reward %d does not match its decision; skipped", row.id)
                continue
            example = decision.slate.example_for(
                row.product_id,
                row.reward,
                context=decision.context,
                candidates=decision.candidates,
                sequence=row.id if in_sequence else None,
            )
            if not self.learner.learn(example):
                continue
            learned += 1
            metrics.record_learned_example(row.reward)
            self._reward_sum += row.reward
            self._reward_count += 1
            metrics.RECOMMENDATION_MEAN_REWARD.set(self._reward_sum / self._reward_count)
            channel = events.learned_channel(user_id=event.user_id, session_id=event.session_id)
            await self.learned.publish(channel, {"rewardId": row.id, "productId": row.product_id})
        return learned


async def rebuild_decision(
    event: RecommendationEvent, index: CatalogIndex | None = None
) -> Decision | None:
    """A logged decision from the database (after a restart, or from another worker):
    the products' attributes plus the price, popularity and age logged with it."""
    ids = [int(i) for i in event.candidate_ids]
    known = index.by_id if index is not None else {}
    missing = [i for i in ids if i not in known]
    if missing:
        found = {p.id: action_features(p) for p in await Product.filter(id__in=missing)}
        if len(found) != len(set(missing)):
            return None  # a candidate was deleted since: this decision cannot be rebuilt
        known = {**known, **found}
    states = event.candidate_state or [None] * len(ids)
    candidates = tuple(
        with_logged_state(known[i], state) for i, state in zip(ids, states, strict=True)
    )
    slate = Slate(
        items=tuple(
            SlateItem(
                action_id=i["productId"],
                slot=i["slot"],
                probability=i["probability"],
                score=i["score"],
            )
            for i in event.items
        ),
        model_version=event.model_version,
    )
    return Decision(
        event_id=event.event_id,
        user_id=event.user_id,
        session_id=event.session_id,
        context=context_from_json(event.context),
        candidates=candidates,  # type: ignore[arg-type]
        slate=slate,
        created_at=event.created_at,
    )


class _Holder:
    runtime: RecommenderRuntime | None = None


def install(runtime: RecommenderRuntime | None) -> None:
    _Holder.runtime = runtime


def current() -> RecommenderRuntime:
    if _Holder.runtime is None:
        raise RuntimeError("the recommender is not running")
    return _Holder.runtime
