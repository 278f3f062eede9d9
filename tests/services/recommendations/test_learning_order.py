"""The learner's read horizon on PostgreSQL, under real concurrent transactions: a reward
that commits late with an early transaction id is neither skipped nor learned out of order,
and transactions of other databases on the same server do not hold learning back."""

from __future__ import annotations

import asyncpg

from models import RecommendationEvent, RecommendationReward, User
from services.auth import Viewer
from services.recommendations import decide
from services.recommendations.request import RecommendationRequest
from services.recommendations.snapshots import Position
from tests.support.db import postgres_only
from tests.support.services import fresh_postgres_database


def _asyncpg(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


async def _decision(runtime, user) -> tuple[int, int, float]:
    """A logged decision's row id, its top item and that item's probability."""
    decision, _ = await decide.recommendations(
        runtime, Viewer(user=user), RecommendationRequest(k=2, page="home")
    )
    await runtime.decisions.flush()
    event = await RecommendationEvent.get(event_id=decision.event_id)
    top = decision.slate.items[0]
    return event.id, top.action_id, top.probability


async def _reward(connection, event_pk: int, product_id: int, probability: float) -> int:
    return await connection.fetchval(
        "INSERT INTO recommendation_rewards (event_id, product_id, action, signal, reward, slot,"
        " probability, created_at) VALUES ($1, $2, 'tick', 'opinion', 1, 0, $3, now())"
        " RETURNING id",
        event_pk, product_id, probability,
    )  # fmt: skip


def _expected(rows) -> Position:
    position = Position()
    for reward_id, txid in rows:
        position = position.after(reward_id, txid, learned=True)
    return position


async def test_a_reward_committed_late_is_learned_in_its_place(app, catalog, settings):
    postgres_only(settings)
    runtime = app.state.recommender
    user = await User.create(clerk_id="user_late")
    first, second = await _decision(runtime, user), await _decision(runtime, user)
    late = await asyncpg.connect(_asyncpg(settings.database_url))
    quick = await asyncpg.connect(_asyncpg(settings.database_url))
    try:
        transaction = late.transaction()
        await transaction.start()
        late_id = await _reward(late, *first)  # this transaction's id is the older one
        quick_id = await _reward(quick, *second)  # autocommit: committed at once
        assert quick_id > late_id
        assert await runtime.role.learn_once() == 0  # held back: an older writer is running
        assert runtime.role.learner.position == Position()
        await transaction.commit()
        await runtime.learn_pending()
    finally:
        await late.close()
        await quick.close()
    rows = await RecommendationReward.all().order_by("txid", "id").values_list("id", "txid")
    assert [reward_id for reward_id, _ in rows] == [late_id, quick_id]
    position = runtime.role.learner.position
    assert position == _expected(rows) and position.learned == 2


async def test_a_long_transaction_in_another_database_does_not_hold_learning(
    app, catalog, settings
):
    postgres_only(settings)
    runtime = app.state.recommender
    user = await User.create(clerk_id="user_elsewhere")
    other_url = await fresh_postgres_database("horizon")
    elsewhere = await asyncpg.connect(_asyncpg(other_url))
    here = await asyncpg.connect(_asyncpg(settings.database_url))
    try:
        transaction = elsewhere.transaction()
        await transaction.start()
        await elsewhere.fetchval("SELECT pg_current_xact_id()")  # it holds a transaction id
        target = await _decision(runtime, user)
        reward_id = await _reward(here, *target)
        assert await runtime.role.learn_once() == 1
        assert runtime.role.learner.position.reward_id == reward_id
        await transaction.rollback()
    finally:
        await elsewhere.close()
        await here.close()
