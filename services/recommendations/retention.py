"""Decision-log retention: decisions older than `DECISION_LOG_RETENTION_DAYS` are deleted.

Deletes go in batches of `BATCH` decisions (their rewards go with them, by the foreign
key's cascade), each its own short transaction, with a pause between batches, so no lock
is held for long and the writers and the learner keep going during a big purge. A decision
is purged only once the newest published snapshot contains every reward logged on it, so
retention can never take a reward away before it is learned.

Archive before purging with `shop bandit export-log --before DATE` (export.py).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from core import metrics
from core.background import is_transient, set_aside
from core.sql import SqlBuilder
from services.recommendations.snapshots import Position

logger = logging.getLogger("shopgraph.recommendations.retention")

WRITER = "retention"
BATCH = 1000
PAUSE_SECONDS = 0.05


def cutoff_for(retention_days: float, now: datetime | None = None) -> datetime | None:
    if retention_days <= 0:
        return None
    return (now or datetime.now(UTC)) - timedelta(days=retention_days)


async def purge_before(before: datetime, *, learned: Position | None, batch: int = BATCH) -> int:
    """Delete decisions created before `before` whose rewards are all at or before the
    read position `learned` (None: no such guard, for an operator purging by hand after the
    learner stopped). Returns the number of decisions deleted."""
    deleted = 0
    while True:
        try:
            count = await _purge_batch(before, learned, batch)
        except Exception as error:
            if is_transient(error):
                raise
            # Nothing row-specific can fail in a DELETE by id range, except a batch the
            # database refuses as a whole: report it and stop this round (the next one,
            # maybe with other rows, tries again).
            set_aside(WRITER, f"a batch of decisions before {before.isoformat()}", error)
            return deleted
        deleted += count
        metrics.DECISION_LOG_PURGED.inc(count)
        if count < batch:
            return deleted
        await asyncio.sleep(PAUSE_SECONDS)


async def _purge_batch(before: datetime, learned: Position | None, batch: int) -> int:
    q = SqlBuilder()
    # Parameters in the order they appear: SQLite's `?` placeholders are positional.
    sql = f"SELECT e.id FROM recommendation_events e WHERE e.created_at < {q.param(before)}"  # noqa: S608
    if learned is not None:
        later = (
            f"(r.txid, r.id) > ({q.param(learned.txid)}, {q.param(learned.reward_id)})"
            if q.postgres
            else f"r.id > {q.param(learned.reward_id)}"
        )
        sql += (
            " AND NOT EXISTS (SELECT 1 FROM recommendation_rewards r "  # noqa: S608
            f"WHERE r.event_id = e.id AND {later})"
        )
    ids = await q.rows(f"{sql} ORDER BY e.id LIMIT {int(batch)}")
    if not ids:
        return 0
    d = SqlBuilder(postgres=q.postgres)
    marks = ", ".join(d.param(row["id"]) for row in ids)
    # Their rewards go in the same statement, by the foreign key's ON DELETE CASCADE.
    await d.rows(f"DELETE FROM recommendation_events WHERE id IN ({marks})")  # noqa: S608
    return len(ids)
