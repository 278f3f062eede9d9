"""Admin analytics: funnel, revenue, top products, interactions and recommendation quality.

Aggregations run in the database (PostgreSQL) where they are exact there; SQLite keeps
money as text, so money sums are done in Python with `Decimal` on that dialect. Every query
is bounded by a date range (default: the last 30 days, at most 366 days).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

import numpy as np

from bandit.estimators import Estimate, ips, snips
from core.errors import InvalidInput
from core.sql import SqlBuilder
from models import OrderStatus, RecommendationEvent, RecommendationReward
from services.recommendations.candidates import learner_views
from services.recommendations.decisions import (
    UnreadableDecision,
    candidate_ids,
    logged_items,
    rebuild,
)
from services.recommendations.runtime import RecommenderRuntime

MAX_DAYS = 366
POSITIVE_ACTIONS = ("tick", "cart_add", "purchase", "ar_view")


@dataclass(frozen=True)
class Period:
    since: datetime
    until: datetime

    @classmethod
    def of(cls, since: datetime | None, until: datetime | None) -> Period:
        try:
            until = (until or datetime.now(UTC)).astimezone(UTC)
            since = (since or until - timedelta(days=30)).astimezone(UTC)
        except OverflowError:
            # `until` in the year 1 (found by fuzzing): the default period would start before it.
            raise InvalidInput("The period is out of range", field="until") from None
        if since >= until:
            raise InvalidInput("`since` must be before `until`", field="since")
        if until - since > timedelta(days=MAX_DAYS):
            raise InvalidInput(f"A period spans at most {MAX_DAYS} days", field="since")
        return cls(since, until)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


@dataclass(frozen=True)
class FunnelRow:
    day: date
    category: str
    views: int
    cart_adds: int
    purchases: int


async def funnel(period: Period, *, category: str | None = None) -> list[FunnelRow]:
    """view -> cart_add -> purchase interaction counts per day and category."""
    q = SqlBuilder()
    where = f"i.created_at >= {q.param(period.since)} AND i.created_at < {q.param(period.until)}"
    if category:
        where += f" AND p.category = {q.param(category)}"
    rows = await q.rows(
        f"SELECT {q.day('i.created_at')} AS day, p.category AS category, "
        "SUM(CASE WHEN i.action = 'view' THEN 1 ELSE 0 END) AS views, "
        "SUM(CASE WHEN i.action = 'cart_add' THEN 1 ELSE 0 END) AS cart_adds, "
        "SUM(CASE WHEN i.action = 'purchase' THEN 1 ELSE 0 END) AS purchases "
        "FROM user_interactions i JOIN products p ON p.id = i.product_id "
        f"WHERE {where} GROUP BY 1, 2 ORDER BY 1, 2"
    )
    return [
        FunnelRow(_as_date(r["day"]), r["category"], int(r["views"]), int(r["cart_adds"]),
                  int(r["purchases"]))
        for r in rows
    ]  # fmt: skip


@dataclass(frozen=True)
class RevenueRow:
    day: date
    revenue: Decimal
    orders: int


async def revenue_by_day(period: Period) -> list[RevenueRow]:
    """Revenue of orders placed per day (cancelled orders excluded), exact to the cent."""
    q = SqlBuilder()
    where = (
        f"created_at >= {q.param(period.since)} AND created_at < {q.param(period.until)} "
        f"AND status <> {q.param(OrderStatus.CANCELLED.value)}"
    )
    if q.postgres:
        rows = await q.rows(
            f"SELECT {q.day('created_at')} AS day, SUM(total) AS revenue, COUNT(*) AS n "
            f"FROM orders WHERE {where} GROUP BY 1 ORDER BY 1"
        )
        return [RevenueRow(_as_date(r["day"]), Decimal(r["revenue"]), int(r["n"])) for r in rows]
    totals: dict[date, list[Decimal]] = defaultdict(list)
    for r in await q.rows(f"SELECT {q.day('created_at')} AS day, total FROM orders WHERE {where}"):
        totals[_as_date(r["day"])].append(Decimal(str(r["total"])))
    return [RevenueRow(d, sum(v, Decimal("0.00")), len(v)) for d, v in sorted(totals.items())]


class TopBy(StrEnum):
    REVENUE = "revenue"
    UNITS = "units"
    INTERACTIONS = "interactions"


@dataclass(frozen=True)
class TopProduct:
    product_id: int
    revenue: Decimal
    units: int
    interactions: int


async def top_products(period: Period, *, by: TopBy, limit: int) -> list[TopProduct]:
    if not 1 <= limit <= 100:
        raise InvalidInput("`first` must be between 1 and 100", field="first")
    q = SqlBuilder()
    since, until = q.param(period.since), q.param(period.until)
    cancelled = q.param(OrderStatus.CANCELLED.value)
    sales = await q.rows(
        "SELECT oi.product_id AS pid, oi.quantity AS quantity, oi.unit_price AS price "
        "FROM order_items oi JOIN orders o ON o.id = oi.order_id "
        f"WHERE o.created_at >= {since} AND o.created_at < {until} AND o.status <> {cancelled}"
    )
    q2 = SqlBuilder()
    counts = await q2.rows(
        "SELECT product_id AS pid, COUNT(*) AS n FROM user_interactions "
        f"WHERE created_at >= {q2.param(period.since)} AND created_at < {q2.param(period.until)} "
        "GROUP BY product_id"
    )
    revenue: dict[int, Decimal] = defaultdict(lambda: Decimal("0.00"))
    units: dict[int, int] = defaultdict(int)
    for r in sales:
        revenue[r["pid"]] += Decimal(str(r["price"])) * int(r["quantity"])
        units[r["pid"]] += int(r["quantity"])
    interactions = {r["pid"]: int(r["n"]) for r in counts}
    rows = [
        TopProduct(
            pid, revenue.get(pid, Decimal("0.00")), units.get(pid, 0), interactions.get(pid, 0)
        )
        for pid in set(revenue) | set(interactions)
    ]  # fmt: skip
    key = {TopBy.REVENUE: lambda t: t.revenue, TopBy.UNITS: lambda t: t.units,
           TopBy.INTERACTIONS: lambda t: t.interactions}[by]  # fmt: skip
    rows.sort(key=lambda t: (key(t), -t.product_id), reverse=True)
    return rows[:limit]


async def interactions_by_action(period: Period) -> dict[str, int]:
    q = SqlBuilder()
    rows = await q.rows(
        "SELECT action, COUNT(*) AS n FROM user_interactions "
        f"WHERE created_at >= {q.param(period.since)} AND created_at < {q.param(period.until)} "
        "GROUP BY action ORDER BY action"
    )
    return {str(r["action"]): int(r["n"]) for r in rows}


@dataclass(frozen=True)
class ModelPerformance:
    model_version: str
    decisions: int
    rewarded_slots: int
    mean_reward: float
    click_through: float


async def recommendation_performance(period: Period) -> list[ModelPerformance]:
    """Per model version: decisions, mean reward per shown slot and click-through (share of
    shown slots with a tick, cart add, purchase or AR view), over closed decisions."""
    events = await RecommendationEvent.filter(
        closed=True, created_at__gte=period.since, created_at__lt=period.until
    ).only("id", "model_version", "payload", "created_at")
    if not events:
        return []
    rewards = await RecommendationReward.filter(event_id__in=[e.id for e in events]).values_list(
        "event_id", "product_id", "action", "reward"
    )
    summed: dict[tuple[int, int], float] = defaultdict(float)
    clicked: set[tuple[int, int]] = set()
    for event_pk, product_id, action, reward in rewards:
        summed[(event_pk, product_id)] += reward
        if action in POSITIVE_ACTIONS:
            clicked.add((event_pk, product_id))
    stats: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0.0, 0])
    for event in events:
        try:
            items = logged_items(event)
        except UnreadableDecision:
            continue
        entry = stats[event.model_version]
        entry[0] += 1
        for item in items:
            key = (event.id, item.action_id)
            entry[1] += 1
            entry[2] += summed.get(key, 0.0)
            entry[3] += key in clicked
    return [
        ModelPerformance(version, int(d), int(slots), reward / slots if slots else 0.0,
                         clicks / slots if slots else 0.0)
        for version, (d, slots, reward, clicks) in sorted(stats.items())
    ]  # fmt: skip


@dataclass(frozen=True)
class PolicyEstimate:
    records: int
    logged: Estimate
    ips: Estimate
    snips: Estimate


async def current_policy_value(runtime: RecommenderRuntime, *, sample: int = 500) -> PolicyEstimate:
    """Off-policy estimate of the current model's value on the latest closed decisions:
    each logged top slot is reweighted by (current model's probability of the logged item)
    / (its logged probability). Top slots only: the later slots' candidate sets depend on
    what the logging policy placed above them."""
    events = await RecommendationEvent.filter(closed=True).order_by("-id").limit(sample)
    rewards: dict[tuple[int, int], float] = defaultdict(float)
    for event_pk, product_id, reward in await RecommendationReward.filter(
        event_id__in=[e.id for e in events]
    ).values_list("event_id", "product_id", "reward"):
        rewards[(event_pk, product_id)] += reward
    logged_r, weights = [], []
    products = await learner_views(candidate_ids(events), runtime.catalog.index)
    for event in events:
        try:
            decision = rebuild(event, products)
        except UnreadableDecision:
            continue
        if decision is None or not decision.slate.items:
            continue
        top = decision.slate.items[0]
        pmf = await runtime.action_probabilities(decision.context, decision.candidates)
        index = [c.action_id for c in decision.candidates].index(top.action_id)
        logged_r.append(rewards.get((event.id, top.action_id), 0.0))
        weights.append(float(pmf[index]) / top.probability)
    r, w = np.asarray(logged_r, dtype=float), np.asarray(weights, dtype=float)
    return PolicyEstimate(
        records=len(logged_r),
        logged=ips(r, np.ones_like(r)),
        ips=ips(r, w),
        snips=snips(r, w),
    )
