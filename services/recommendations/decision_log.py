"""The decision log writer: recent decisions in memory, written in small batches.

Every serving process logs the slates it decides. Rows are written off the request path by
a background task, in chunks with a yield in between (requests keep being served while a
big batch is written on the same event loop); a reward on a decision not yet written forces
its batch out first (`ensure_written`).

A decision that can never be written -- its JSON cannot be encoded (an integer past 64
bits, a lone surrogate, 300 nested levels in `features`), or the database refuses the row
-- is set aside and counted (`shopgraph_background_rows_skipped_total{writer="decision_log"}`);
the decisions behind it are written. Only an unreachable database keeps a batch pending.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict

from tortoise.exceptions import IntegrityError

from core.background import cancel_tasks, is_transient, set_aside
from models import RecommendationEvent
from services.recommendations.decisions import Decision, UnloggableDecision

logger = logging.getLogger("shopgraph.recommendations.decision_log")

WRITER = "decision_log"
WRITE_CHUNK = 8


class DecisionLog:
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
        """Write every pending decision (or set it aside). Raises only when the database
        is unreachable; the unwritten decisions then stay pending."""
        async with self._lock:
            if not self._pending:
                return
            batch, self._pending = list(self._pending.values()), {}
            self._writing = {d.event_id for d in batch}
            written = 0
            try:
                while written < len(batch):
                    chunk = batch[written : written + WRITE_CHUNK]
                    await self._write(chunk)
                    written += len(chunk)
                    await asyncio.sleep(0)
            except Exception:
                for decision in batch[written:]:
                    self._pending.setdefault(decision.event_id, decision)
                raise
            finally:
                self._writing = set()

    async def _write(self, chunk: list[Decision]) -> None:
        rows = []
        for decision in chunk:
            try:
                rows.append(decision.to_row())
            except UnloggableDecision as error:
                self._set_aside(decision, error)
        if not rows:
            return
        try:
            await RecommendationEvent.bulk_create(rows)
        except Exception as error:
            if is_transient(error):
                raise
            await self._write_one_by_one(rows)

    async def _write_one_by_one(self, rows: list[RecommendationEvent]) -> None:
        for row in rows:
            try:
                await row.save()
            except IntegrityError:
                # Its user was deleted meanwhile: keep the decision, anonymously.
                try:
                    await _anonymous_copy(row).save()
                except Exception as error:
                    if is_transient(error):
                        raise
                    self._set_aside(row, error)
            except Exception as error:
                if is_transient(error):
                    raise
                self._set_aside(row, error)

    def _set_aside(self, decision: Decision | RecommendationEvent, error: Exception) -> None:
        set_aside(WRITER, f"decision {decision.event_id}", error)
        self._recent.pop(decision.event_id, None)

    def start(self) -> None:
        self._task = asyncio.create_task(self._write_forever(), name="decision-log")

    async def stop(self) -> None:
        await cancel_tasks([self._task])
        self._task = None
        try:
            await self.flush()
        except Exception:
            logger.exception("the last recommendation decisions could not be written")

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


def _anonymous_copy(row: RecommendationEvent) -> RecommendationEvent:
    fields = {f: getattr(row, f) for f in RecommendationEvent._meta.db_fields if f != "id"}
    return RecommendationEvent(**{**fields, "user_id": None})
