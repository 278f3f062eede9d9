"""The model a process ranks with, and the thread its Vowpal Wabbit calls run on.

VW calls are CPU-bound (a slate of 10 from 150 candidates: ~1.5 ms; loading a snapshot:
~15 ms) and a Workspace is not thread-safe, so each process runs them on one dedicated
thread (`VWThread`) instead of its event loop: the loop keeps serving while VW works, and
VW releases the interpreter between calls (measured: the loop waits at most ~12 ms, one
snapshot load, instead of the whole call sequence). The thread also meters its CPU time
per kind of work (`shopgraph_recommendation_model_cpu_seconds_total`).

`ServingModel` holds the newest snapshot this process loaded and swaps a newer one in
without stopping: the new Workspace is built on the VW thread beside the old one, the
reference is switched on the event loop, and the old one is closed on the VW thread after
the calls queued before the switch. The learner's own process ranks with the learner's
live model instead (`follow`), which is newer than any snapshot.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar

from bandit.features import FeatureEncoder
from bandit.learner import BanditLearner, LearnerConfig
from core import metrics
from services.recommendations.snapshots import CorruptSnapshot, Snapshot, SnapshotStore

logger = logging.getLogger("shopgraph.recommendations.model")

T = TypeVar("T")


class VWThread:
    """One thread for one Workspace's calls, with their CPU time metered by `work`."""

    def __init__(self, name: str) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    async def call(self, work: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        def timed() -> T:
            started = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                metrics.RECOMMENDATION_MODEL_CPU.labels(work).inc(time.thread_time() - started)

        return await asyncio.get_running_loop().run_in_executor(self._executor, timed)

    def submit(self, fn: Callable[[], Any]) -> None:
        """Run `fn` after every call queued so far, without waiting for it."""
        self._executor.submit(fn)

    def close(self) -> None:
        self._executor.shutdown(wait=True)


def learner_from_snapshot(
    snapshot: Snapshot, data: bytes, encoder: FeatureEncoder | None = None
) -> BanditLearner:
    run_id, _, updates = snapshot.model_version.rpartition(":")
    return BanditLearner.from_model_bytes(
        LearnerConfig.from_dict(snapshot.config),
        data,
        run_id=run_id,
        updates=int(updates),
        encoder=encoder,
    )


class ServingModel:
    def __init__(self, store: SnapshotStore, thread: VWThread) -> None:
        self.store = store
        self.thread = thread
        # One feature encoder for every model this process ranks with: its cache of the
        # products' encoded lines survives swaps (a cold cache costs the next requests
        # ~1 ms per uncached product). Used on the VW thread only, like the models.
        self.encoder = FeatureEncoder()
        self.learner = BanditLearner(encoder=self.encoder)  # cold until the first snapshot
        self.snapshot: Snapshot | None = None
        self._owned = True  # False while ranking with the learner's live model
        self._loading = asyncio.Lock()
        self.swapped = asyncio.Event()  # set (and replaced) on every swap

    @property
    def version(self) -> int:
        return 0 if self.snapshot is None else self.snapshot.version

    @property
    def live(self) -> bool:
        return not self._owned

    def follow(self, learner: BanditLearner) -> None:
        """Rank with the learner's live model (this process became the learner)."""
        self._swap(learner, owned=False)

    def unfollow(self) -> None:
        """Stop ranking with the learner's model (it is about to close): back to a cold
        model until `refresh` loads the newest snapshot."""
        if not self._owned:
            self._swap(BanditLearner(encoder=self.encoder), owned=True)
            self.snapshot = None

    def reset(self) -> None:
        """Back to a cold model (the snapshots were deleted)."""
        if self._owned:
            self._swap(BanditLearner(encoder=self.encoder), owned=True)
            self.snapshot = None

    async def refresh(self, trigger: str) -> bool:
        """Load the newest snapshot if it is newer than the current one; True if swapped.
        At start (`trigger="start"`) a corrupt snapshot falls back to the one before."""
        async with self._loading:
            if self.live:
                return False
            snapshot = await self.store.newest()
            while snapshot is not None and snapshot.version > self.version:
                try:
                    data = await self.store.read(snapshot)
                    learner = await self.thread.call("load", learner_from_snapshot, snapshot, data)
                except (CorruptSnapshot, RuntimeError, ValueError, TypeError) as error:
                    logger.error("cannot load model snapshot %s: %s", snapshot.version, error)
                    if trigger != "start":
                        return False
                    snapshot = await self.store.newest(older_than=snapshot.version)
                    continue
                if self.live:  # became the learner meanwhile: its model is newer
                    self.thread.submit(learner.close)
                    return False
                self._swap(learner, owned=True)
                self.snapshot = snapshot
                metrics.RECOMMENDATION_SNAPSHOT_LOADS.labels(trigger).inc()
                metrics.RECOMMENDATION_SNAPSHOT_VERSION.set(snapshot.version)
                delay = (datetime.now(UTC) - snapshot.created_at).total_seconds()
                metrics.RECOMMENDATION_SNAPSHOT_DELAY.observe(max(delay, 0.0))
                logger.info(
                    "ranking with model snapshot %s (%s, %.0f ms after publication)",
                    snapshot.version, snapshot.model_version, delay * 1000,
                )  # fmt: skip
                return True
            return False

    def published(self, snapshot: Snapshot) -> None:
        """This process (the learner) published `snapshot` of the model it ranks with."""
        self.snapshot = snapshot
        metrics.RECOMMENDATION_SNAPSHOT_VERSION.set(snapshot.version)

    def _swap(self, learner: BanditLearner, *, owned: bool) -> None:
        old, old_owned = self.learner, self._owned
        self.learner, self._owned = learner, owned
        if old_owned and old is not learner:
            self.thread.submit(old.close)  # after the calls already queued with it
        self.swapped.set()
        self.swapped = asyncio.Event()

    def close(self) -> None:
        if self._owned:
            self.thread.submit(self.learner.close)
