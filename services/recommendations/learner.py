"""The learner role: one process at a time learns, publishes snapshots and keeps the log.

A process stands for election (`election`): a serving process with `LEARNER_MODE=elected`
(the default), or `shop learner`. The winner, for as long as it holds the lock:

1. starts a new term and restores the newest snapshot (model + read position), or starts
   from a fresh model and the beginning of the log when there is none;
2. learns every reward after that position, in order (`learning`), woken by the
   `rewards:all` bus event and polling every `LEARN_POLL_SECONDS` for lost events;
3. publishes a snapshot at most every `SNAPSHOT_INTERVAL_SECONDS` while it learns
   (`snapshots`) and announces it on the bus, pruning all but the newest `SNAPSHOT_KEEP`;
4. closes reward windows (`windows`) and purges decisions past the retention (`retention`);
5. with `TUNE_EVERY_HOURS`, re-evaluates its configuration on the decision log (`tuning`).

It steps down when its lock connection dies or a newer term exists (then it cannot publish
anyway), and on `stop()`, which always ends with a last learning pass and a last snapshot:
each of those steps is attempted even if the one before it failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import asdict

from bandit.learner import BanditLearner
from core import metrics
from core.background import is_transient, set_aside
from core.settings import Settings
from live import EventHub
from services.recommendations import learning, retention, tuning, windows
from services.recommendations.candidates import CatalogIndexHolder
from services.recommendations.election import (
    LearnerLock,
    begin_term,
    learner_lock,
    wait_for_lock,
)
from services.recommendations.learning import Learner, Shopper
from services.recommendations.model import VWThread, learner_from_snapshot
from services.recommendations.snapshots import (
    CHANNEL,
    CorruptSnapshot,
    Position,
    Snapshot,
    SnapshotStore,
)

logger = logging.getLogger("shopgraph.recommendations.learner")

WATCH_SECONDS = 1.0
RETENTION_EVERY_SECONDS = 600.0
STAND_AGAIN_SECONDS = 1.0
FINAL_LEARN_SECONDS = 3.0


class SteppedDown(Exception):
    """The lock was lost or a newer term began."""


class LearnerRole:
    def __init__(
        self,
        settings: Settings,
        *,
        store: SnapshotStore,
        catalog: CatalogIndexHolder,
        hub: Callable[[], EventHub | None],
        before_sweep: Callable[[], object] | None = None,
        on_elected: Callable[[BanditLearner], None] | None = None,
        on_learned: Callable[[set[Shopper]], object] | None = None,
        on_published: Callable[[Snapshot], None] | None = None,
        on_stepped_down: Callable[[], object] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.catalog = catalog
        self.hub = hub
        self.before_sweep = before_sweep
        self.on_elected = on_elected
        self.on_learned = on_learned
        self.on_published = on_published
        self.on_stepped_down = on_stepped_down
        self.thread = VWThread("vw-learn")
        self.learner: Learner | None = None
        self.term = 0
        self.published: Position | None = None
        self.elected = asyncio.Event()
        self.settled = asyncio.Event()  # set once the first attempt at the lock is decided
        self._wakeup = asyncio.Event()
        self._dirty = asyncio.Event()
        self._stopping = asyncio.Event()
        # Restarts asked for (`reset`) and the number the current term started after: a
        # term only serves the restarts asked for before it began.
        # `paused()`: the lead ends without a last snapshot and nobody stands until resumed.
        self._pausing = asyncio.Event()
        self._resumed = asyncio.Event()
        self._resumed.set()
        self._changed = asyncio.Event()  # set (and replaced) when elected or stepping down
        self._task: asyncio.Task | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._stand_forever(), name="learner-election")

    async def stop(self) -> None:
        """Stop standing; if leading, learn what is pending and publish a last snapshot."""
        self._stopping.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.thread.close()

    def wake(self) -> None:
        self._wakeup.set()

    async def _stand_forever(self) -> None:
        while not self._stopping.is_set():
            await self._resumed.wait()
            lock = learner_lock(self.settings)
            if not await wait_for_lock(
                lock, stopping=self._stopping, waiting=self.settled.set, retry=STAND_AGAIN_SECONDS
            ):
                return
            try:
                await self._lead(lock)
            except Exception:
                logger.exception("the learner stopped")
            finally:
                await lock.release()
                self.settled.set()
                self._announce_change()
            if self._resumed.is_set() and not self._stopping.is_set():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(STAND_AGAIN_SECONDS):
                        await self._pausing.wait()

    # --- while elected ---------------------------------------------------------------------

    async def _lead(self, lock: LearnerLock) -> None:
        self.term = await begin_term()
        self.learner = await self._restore()
        self.published = self.learner.position
        # Catch up before serving from the live model: rewards logged while nobody learned.
        try:
            await self.learn_once()
        except Exception:
            logger.exception("catching up failed; the learning loop retries")
            self._wakeup.set()
        metrics.RECOMMENDATION_LEARNER.set(1)
        logger.info(
            "learning as term %d from reward %d (%d learned so far); snapshots in %s",
            self.term, self.learner.position.reward_id, self.learner.position.learned,
            self.store.where,
        )  # fmt: skip
        if self.on_elected is not None:
            self.on_elected(self.learner.model)
        self.elected.set()
        self.settled.set()
        self._announce_change()
        tasks = [
            asyncio.create_task(self._learn_forever(), name="learner-learn"),
            asyncio.create_task(self._publish_forever(), name="learner-publish"),
            asyncio.create_task(self._sweep_forever(), name="learner-windows"),
            asyncio.create_task(self._purge_forever(), name="learner-retention"),
            asyncio.create_task(self._watch(lock), name="learner-watch"),
        ]
        if self.settings.tune_every_hours > 0:
            tasks.append(asyncio.create_task(self._tune_forever(), name="learner-tune"))
        stopping = asyncio.create_task(self._stopping.wait())
        restarting = asyncio.create_task(self._pausing.wait())
        stepped_down = False
        try:
            done, _ = await asyncio.wait(
                [*tasks, stopping, restarting], return_when=asyncio.FIRST_COMPLETED
            )
            stepped_down = restarting in done  # a pause publishes nothing on the way out
            for task in done:
                if task in tasks and task.exception() is not None:
                    stepped_down = isinstance(task.exception(), SteppedDown)
                    logger.warning("stepping down as learner: %s", task.exception())
        finally:
            for task in [*tasks, stopping, restarting]:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            if not stepped_down:
                await self._finish()
            self.elected.clear()
            metrics.RECOMMENDATION_LEARNER.set(0)
            learner, self.learner = self.learner, None
            if self.on_stepped_down is not None:
                with contextlib.suppress(Exception):
                    await _maybe_await(self.on_stepped_down())
            if learner is not None:
                self.thread.submit(learner.model.close)

    def _announce_change(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _finish(self) -> None:
        """Publish what is learned, learn what is pending (for at most FINAL_LEARN_SECONDS:
        the next learner resumes from the snapshot anyway), publish again. Each step is
        attempted whatever happened to the one before."""
        for step in ("publish", "learn", "publish"):
            try:
                if step == "learn":
                    async with asyncio.timeout(FINAL_LEARN_SECONDS):
                        await self.learn_once()
                else:
                    await self.publish()
            except TimeoutError:
                logger.warning("stopping with rewards left to learn (the next learner will)")
            except Exception:
                logger.exception("stopping the learner: the final %s step failed", step)

    async def _restore(self) -> Learner:
        snapshot = await self.store.newest()
        while snapshot is not None:
            try:
                data = await self.store.read(snapshot)
                model = await self.thread.call("load", learner_from_snapshot, snapshot, data)
                return Learner(model, snapshot.position, thread=self.thread, catalog=self.catalog)
            except (CorruptSnapshot, RuntimeError, ValueError, TypeError) as error:
                set_aside("snapshot_publisher", f"snapshot {snapshot.version}", error)
                snapshot = await self.store.newest(older_than=snapshot.version)
        return Learner(BanditLearner(), Position(), thread=self.thread, catalog=self.catalog)

    async def _watch(self, lock: LearnerLock) -> None:
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            if not await lock.still_holds(self.term):
                raise SteppedDown("the learner lock is lost, or a newer term began")

    @contextlib.asynccontextmanager
    async def paused(self):
        """Nobody learns in this process for the block: the lead, if any, ends without a
        last snapshot, and the role stands again after it -- from the newest snapshot, or an
        untrained model at the beginning of the log when there is none (the database was
        emptied meanwhile: tests, benchmarks)."""
        was_learner = self.elected.is_set()
        self._resumed.clear()
        self._pausing.set()
        try:
            async with asyncio.timeout(30):
                while self.elected.is_set():
                    await self._changed.wait()
            yield
        finally:
            self._pausing.clear()
            self._resumed.set()
        async with asyncio.timeout(30):
            while was_learner and not self.elected.is_set():
                await self._changed.wait()

    # --- learning and publishing -------------------------------------------------------------

    async def learn_once(self) -> int:
        """One learning pass over every ready reward; returns how many were learned."""
        if self.learner is None:
            return 0
        learned, shoppers = await self.learner.learn_pending()
        if learned:
            self._dirty.set()
            if self.on_learned is not None:
                await _maybe_await(self.on_learned(shoppers))
        return learned

    async def learn_committed(self) -> int:
        """Learn every reward committed before this call, waiting for older write
        transactions still running on PostgreSQL to end: until they do, rows after theirs
        are not readable yet (`learning`). Returns how many were learned."""
        target = await learning.last_committed()
        learned = 0
        while True:
            learned += await self.learn_once()
            if self.learner is None:
                return learned
            position = self.learner.position
            if (position.txid, position.reward_id) >= target:
                return learned
            await asyncio.sleep(0.01)

    async def _learn_forever(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.learn_poll_seconds):
                    await self._wakeup.wait()
            self._wakeup.clear()
            try:
                await self.learn_once()
                if self.learner is not None:
                    lag = await learning.lag_seconds(self.learner.position)
                    metrics.RECOMMENDATION_LEARNER_LAG.set(lag)
            except Exception:
                logger.exception("learning from rewards failed; will retry")
                await asyncio.sleep(1.0)

    async def publish(self) -> Snapshot | None:
        """Publish the model if it learned anything since the last snapshot."""
        if self.learner is None:
            return None
        data, model_version, position = await self.learner.save()
        if position == self.published:
            return None
        snapshot = await self.store.publish(
            term=self.term,
            model_version=model_version,
            config=asdict(self.learner.model.config),
            position=position,
            data=data,
        )
        if snapshot is None:
            raise SteppedDown(f"term {self.term} is over: the snapshot was not published")
        self.published = position
        metrics.RECOMMENDATION_SNAPSHOTS_PUBLISHED.inc()
        if self.on_published is not None:
            self.on_published(snapshot)
        hub = self.hub()
        if hub is not None:
            await hub.publish(CHANNEL, {"version": snapshot.version})
        try:
            await self.store.prune()
        except Exception as error:
            if is_transient(error):
                raise
            set_aside("snapshot_publisher", "pruning old snapshots", error)
        return snapshot

    async def _publish_forever(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            try:
                await self.publish()
            except SteppedDown:
                raise
            except Exception as error:
                if is_transient(error):
                    logger.warning("publishing a model snapshot failed (%s); will retry", error)
                else:
                    set_aside("snapshot_publisher", "a model snapshot", error)
                self._dirty.set()
                await asyncio.sleep(1.0)
            await asyncio.sleep(self.settings.snapshot_interval_seconds)

    # --- the log's upkeep ----------------------------------------------------------------

    async def close_windows(self, *, older_than: float | None = None) -> int:
        if self.before_sweep is not None:
            await _maybe_await(self.before_sweep())
        logged = await windows.close_windows(self.settings, older_than=older_than)
        if logged:
            self._wakeup.set()
        return logged

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.reward_window_sweep_seconds)
            try:
                await self.close_windows()
            except Exception:
                logger.exception("closing reward windows failed; will retry")

    async def purge(self) -> int:
        cutoff = retention.cutoff_for(self.settings.decision_log_retention_days)
        if cutoff is None:
            return 0
        return await retention.purge_before(cutoff, learned=self.published)

    async def _tune_forever(self) -> None:
        """Every `TUNE_EVERY_HOURS` of leading, tune the configuration on the decision log.
        A promotion begins a new term: this learner then steps down and stands again from
        the promoted snapshot (`tuning`)."""
        while True:
            await asyncio.sleep(self.settings.tune_every_hours * 3600)
            try:
                outcome = await tuning.tune(
                    self.settings, store=self.store, hub=self.hub(), catalog=self.catalog
                )
                logger.info("scheduled tuning: %s", outcome.message)
            except Exception:
                logger.exception(
                    "scheduled tuning failed; it runs again in %s h", self.settings.tune_every_hours
                )

    async def _purge_forever(self) -> None:
        while True:
            await asyncio.sleep(RETENTION_EVERY_SECONDS)
            try:
                purged = await self.purge()
                if purged:
                    logger.info("purged %d decisions past the retention", purged)
            except Exception:
                logger.exception("purging the decision log failed; will retry")


async def _maybe_await(value: object) -> None:
    if asyncio.iscoroutine(value):
        await value
