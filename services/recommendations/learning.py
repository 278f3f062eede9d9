"""Learning: every reward exactly once, in sequence order, from the decision log.

The learner reads `recommendation_rewards` in (txid, id) order after its read position.
On PostgreSQL it reads only rows whose inserting transaction is older than every
transaction of this database still running (`HORIZON`): ids are handed out before commit,
so a plain `id > last` read could pass over a row that commits later with a smaller id and
lose it. With the horizon, the rows at or before the position
are final -- no commit can add one -- so the position alone says what was learned. On
SQLite writers take turns (`core.sqlite_client`), so ids commit in order.

Each reward is rebuilt into the exact example its decision was ranked with (the logged
context, candidates and propensity; `decisions.rebuild`) and learned on the learner's VW
thread. A reward that cannot be learned -- its decision unreadable, a candidate deleted
since, the example invalid -- is set aside and counted (`writer="learner"`), and the
position moves past it: it never holds up the rewards behind it.

The position, the count of learned and set-aside rewards and a hash chain over the learned
ids travel with every snapshot, so a new learner resumes exactly where the snapshot's model
stopped, and tests can check that every reward was learned once, in order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bandit.learner import BanditLearner, ModelClosed
from bandit.slates import LearnExample
from core import metrics
from core.background import set_aside
from core.sql import SqlBuilder
from models import RecommendationEvent
from services.recommendations.candidates import CatalogIndexHolder, learner_views
from services.recommendations.decisions import (
    LoggedDecision,
    UnreadableDecision,
    decode,
    rebuild,
)
from services.recommendations.model import VWThread
from services.recommendations.snapshots import Position

logger = logging.getLogger("shopgraph.recommendations.learning")

WRITER = "learner"
READ_BATCH = 500


@dataclass(frozen=True)
class RewardRow:
    id: int
    txid: int
    event_pk: int
    product_id: int
    reward: float


@dataclass(frozen=True)
class Shopper:
    user_id: int | None
    session_id: str | None


async def last_committed() -> tuple[int, int]:
    """The (txid, id) of the last reward in learning order committed so far ((0, 0): none)."""
    q = SqlBuilder()
    rows = await q.rows(
        "SELECT txid, id FROM recommendation_rewards ORDER BY txid DESC, id DESC LIMIT 1"
    )
    return (rows[0]["txid"], rows[0]["id"]) if rows else (0, 0)


async def lag_seconds(position: Position) -> float:
    """How long ago the first committed reward after `position` was logged (0: none is)."""
    q = SqlBuilder()
    if q.postgres:
        after = f"(txid, id) > ({q.param(position.txid)}, {q.param(position.reward_id)})"
        order = "txid, id"
    else:
        after, order = f"id > {q.param(position.reward_id)}", "id"
    rows = await q.rows(
        f"SELECT created_at FROM recommendation_rewards WHERE {after} ORDER BY {order} LIMIT 1"  # noqa: S608
    )
    if not rows:
        return 0.0
    value = rows[0]["created_at"]
    oldest = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
    return max((datetime.now(UTC) - oldest).total_seconds(), 0.0)


# The learning horizon (PostgreSQL): the oldest transaction of *this* database still running
# when the statement's snapshot was taken, or the next transaction id when none is. A
# transaction id is global to the cluster, so the snapshot's own xmin would also wait for
# long transactions in other databases of a shared server, which can never write our
# rewards. An in-progress id is left out only when pg_stat_activity positively places it in
# another database; one it cannot place (a prepared transaction, a session whose details
# this role may not see) counts as ours, which can only delay learning, never skip a row.
HORIZON = """
(SELECT COALESCE(min(x::text::bigint), pg_snapshot_xmax(pg_current_snapshot())::text::bigint)
   FROM pg_snapshot_xip(pg_current_snapshot()) AS x
  WHERE (x::text::bigint % 4294967296) NOT IN (
        SELECT backend_xid::text::bigint FROM pg_stat_activity
         WHERE backend_xid IS NOT NULL AND datname IS NOT NULL
           AND datname <> current_database()))
"""


async def rewards_after(position: Position, limit: int = READ_BATCH) -> list[RewardRow]:
    """The next rewards in learning order after `position` that can no longer be
    overtaken by a later commit."""
    q = SqlBuilder()
    columns = "id, txid, event_id, product_id, reward FROM recommendation_rewards"
    if q.postgres:
        txid, reward_id = q.param(position.txid), q.param(position.reward_id)
        sql = (
            f"SELECT {columns} WHERE (txid, id) > ({txid}, {reward_id}) "
            f"AND txid < {HORIZON} "
            f"ORDER BY txid, id LIMIT {int(limit)}"
        )
    else:
        after = q.param(position.reward_id)
        sql = f"SELECT {columns} WHERE id > {after} ORDER BY id LIMIT {int(limit)}"
    return [
        RewardRow(r["id"], r["txid"], r["event_id"], r["product_id"], r["reward"])
        for r in await q.rows(sql)
    ]


class Learner:
    """The learning model of the current term and its read position."""

    def __init__(
        self,
        model: BanditLearner,
        position: Position,
        *,
        thread: VWThread,
        catalog: CatalogIndexHolder,
    ) -> None:
        self.model = model
        self.position = position
        self.thread = thread
        self.catalog = catalog
        self.passes = asyncio.Lock()  # one learning pass (or snapshot) at a time

    async def learn_committed(self) -> int:
        """Learn every reward committed before this call, waiting for older write
        transactions still running on PostgreSQL to end (until they do, the rows after
        theirs are not readable). Returns how many were learned."""
        target = await last_committed()
        learned = 0
        while (self.position.txid, self.position.reward_id) < target:
            count, _ = await self.learn_pending()
            learned += count
            if (self.position.txid, self.position.reward_id) < target:
                await asyncio.sleep(0.01)
        return learned

    async def learn_pending(self) -> tuple[int, set[Shopper]]:
        """Learn every reward that is ready; returns how many were learned and whose."""
        async with self.passes:
            learned, shoppers = 0, set()
            while True:
                rows = await rewards_after(self.position)
                if not rows:
                    return learned, shoppers
                examples, owners = await self._examples(rows)
                learning = asyncio.ensure_future(
                    self.thread.call("learn", self._learn_all, examples)
                )
                try:
                    outcomes = await asyncio.shield(learning)
                except asyncio.CancelledError:
                    # The VW thread learns the batch regardless: the position must say so,
                    # or the next snapshot would hold rewards its position calls unlearned.
                    self._advance(rows, await learning, owners, shoppers)
                    raise
                learned += self._advance(rows, outcomes, owners, shoppers)
                if len(rows) < READ_BATCH:
                    return learned, shoppers

    def _advance(
        self,
        rows: list[RewardRow],
        outcomes: list[bool | Exception],
        owners: dict[int, Shopper],
        shoppers: set[Shopper],
    ) -> int:
        learned = 0
        for row, outcome in zip(rows, outcomes, strict=True):
            if isinstance(outcome, Exception):
                set_aside(WRITER, f"reward {row.id}", outcome)
            elif outcome:
                learned += 1
                metrics.record_learned_example(row.reward)
                shoppers.add(owners[row.event_pk])
            self.position = self.position.after(row.id, row.txid, learned=outcome is True)
        return learned

    def _learn_all(self, examples: Sequence[LearnExample | Exception]) -> list[bool | Exception]:
        outcomes: list[bool | Exception] = []
        for example in examples:
            if isinstance(example, Exception):
                outcomes.append(example)
                continue
            try:
                outcomes.append(self.model.learn(example))
            except ModelClosed:
                raise  # not this reward's fault: the whole pass stops, nothing is skipped
            except (ValueError, RuntimeError) as error:
                outcomes.append(error)
        return outcomes

    async def _examples(
        self, rows: list[RewardRow]
    ) -> tuple[list[LearnExample | Exception], dict[int, Shopper]]:
        events = {
            e.id: e for e in await RecommendationEvent.filter(id__in={r.event_pk for r in rows})
        }
        logged: dict[int, LoggedDecision | UnreadableDecision] = {}
        for pk, event in events.items():
            try:
                logged[pk] = decode(event.payload, created_at=event.created_at)
            except UnreadableDecision as error:
                logged[pk] = error
        wanted = {
            i for entry in logged.values() if isinstance(entry, LoggedDecision)
            for i in entry.candidate_ids
        }  # fmt: skip
        products = await learner_views(wanted, self.catalog.index)
        decisions: dict[int, object] = {}
        examples: list[LearnExample | Exception] = []
        for row in rows:
            event = events.get(row.event_pk)
            try:
                if event is None:
                    raise LookupError(f"decision {row.event_pk} is gone")
                if row.event_pk not in decisions:
                    entry = logged[row.event_pk]
                    if isinstance(entry, UnreadableDecision):
                        raise entry
                    decisions[row.event_pk] = rebuild(event, products, entry)
                decision = decisions[row.event_pk]
                if decision is None:
                    raise LookupError(f"a candidate of decision {event.event_id} was deleted")
                if decision.slot_of(row.product_id) is None:
                    raise LookupError(f"product {row.product_id} was not shown")
                examples.append(
                    decision.slate.example_for(
                        row.product_id,
                        row.reward,
                        context=decision.context,
                        candidates=decision.candidates,
                    )
                )
            except (LookupError, UnreadableDecision, ValueError, TypeError) as error:
                examples.append(error)
        owners = {pk: Shopper(e.user_id, e.session_id) for pk, e in events.items()}
        return examples, owners

    async def save(self) -> tuple[bytes, str, Position]:
        """The model's bytes, its version and the position they contain (no learning in
        between)."""
        async with self.passes:
            data, state = await self.thread.call("save", self.model.model_bytes)
            return data, f"{self.model.run_id}:{state.updates}", self.position
