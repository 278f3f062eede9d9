"""`shop doctor`: a read-only audit of the invariants the services keep, run against a live
database by an operator.

Each check is a query for rows that break one invariant; none writes anything. On
PostgreSQL the whole audit runs in one `REPEATABLE READ, READ ONLY` transaction: one
snapshot for every check (a checkout committing halfway through the audit cannot show up
as half an order), and the database itself refuses any write. On SQLite the checks are
plain SELECTs.

What is checked (`CHECKS`), each finding naming its rows:

- `negative_stock`: a product with inventory below 0;
- `order_total_mismatch`: an order whose total is not the sum of its lines (an order with
  no lines at all counts, its lines summing to 0);
- `duplicate_checkout`: two orders of one shopper for the same cart contents placed within
  `DUPLICATE_WINDOW_SECONDS` of each other, what one cart checked out twice looks like
  (the database records no cart identity, so this is a suspicion for a human to confirm);
- `purchase_without_order_line`, `cart_add_not_from_cart`, `ar_view_without_session`:
  interactions the server alone may witness (`services.recommendations.rewards`) that lack
  the server's record of them: a purchase whose `orderId` has no line for that product and
  shopper, a cart add by no signed-in shopper or without the quantity the cart flow stores,
  an AR view without its AR session;
- `unreadable_decision`: a decision-log row `services.recommendations.decisions.decode`
  cannot decode;
- `reward_without_decision`, `reward_not_shown`, `reward_action_mismatch`: a learned
  reward whose decision is gone, that rewards an item its decision did not show, or whose
  interaction is of another action than the reward says.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from tortoise.transactions import in_transaction

from core.sql import SqlBuilder, on_postgres
from models import RecommendationEvent, RecommendationReward
from services.recommendations.decisions import UnreadableDecision, decode

DUPLICATE_WINDOW_SECONDS = 10
# Decision rows decoded per query: bounds memory on a log of millions of rows.
BATCH = 500
# Findings listed per check; the count is always exact.
MAX_LISTED = 50


@dataclass(frozen=True)
class Finding:
    """One row (or pair of rows) that breaks an invariant."""

    check: str
    subject: str
    detail: str


@dataclass
class Report:
    checks: list[str]
    findings: list[Finding] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return not any(self.counts.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "counts": self.counts,
            "findings": [asdict(f) for f in self.findings],
        }

    def as_text(self) -> str:
        lines = []
        for check in self.checks:
            count = self.counts.get(check, 0)
            lines.append(f"{'FAIL' if count else 'ok  '}  {check}: {count}")
            listed = [f for f in self.findings if f.check == check]
            lines.extend(f"        {f.subject}: {f.detail}" for f in listed)
            if count > len(listed):
                lines.append(f"        ... and {count - len(listed)} more")
        total = sum(self.counts.values())
        lines.append("healthy" if not total else f"{total} problem(s) found")
        return "\n".join(lines)


Rows = list[dict[str, Any]]


async def _negative_stock() -> list[Finding]:
    rows = await SqlBuilder().rows(
        "SELECT id, inventory FROM products WHERE inventory < 0 ORDER BY id"
    )
    return [
        Finding("negative_stock", f"product {r['id']}", f"inventory {r['inventory']}") for r in rows
    ]


async def _order_totals() -> list[Finding]:
    # ROUND on both sides: SQLite keeps decimals as text and multiplies them as reals.
    rows = await SqlBuilder().rows(
        "SELECT o.id, o.total, COALESCE(SUM(i.quantity * i.unit_price), 0) AS lines, "
        "COUNT(i.id) AS n FROM orders o LEFT JOIN order_items i ON i.order_id = o.id "
        "GROUP BY o.id, o.total "
        "HAVING ROUND(o.total, 2) <> ROUND(COALESCE(SUM(i.quantity * i.unit_price), 0), 2) "
        "ORDER BY o.id"
    )
    return [
        Finding(
            "order_total_mismatch",
            f"order {r['id']}",
            f"total {r['total']}, its {r['n']} line(s) sum to {round(float(r['lines']), 2)}",
        )
        for r in rows
    ]


async def _duplicate_checkouts() -> list[Finding]:
    sql = SqlBuilder()
    window = sql.param(DUPLICATE_WINDOW_SECONDS)
    if sql.postgres:
        near = f"b.created_at <= a.created_at + make_interval(secs => {window})"
    else:
        near = f"(julianday(b.created_at) - julianday(a.created_at)) * 86400 <= {window}"
    rows = await sql.rows(
        "SELECT a.id AS first, b.id AS second, a.user_id FROM orders a JOIN orders b "  # noqa: S608
        "ON b.user_id = a.user_id AND b.cart_fingerprint = a.cart_fingerprint AND b.id > a.id "
        f"AND b.created_at >= a.created_at AND {near} ORDER BY a.id, b.id"
    )
    return [
        Finding(
            "duplicate_checkout",
            f"orders {r['first']} and {r['second']}",
            f"user {r['user_id']}, same cart within {DUPLICATE_WINDOW_SECONDS} s",
        )
        for r in rows
    ]


def _json_text(sql: SqlBuilder, column: str, key: str) -> str:
    """A top-level key of a JSON column, as text (NULL when absent)."""
    if sql.postgres:
        return f"({column} ->> '{key}')"
    return f"CAST(json_extract({column}, '$.{key}') AS TEXT)"


async def _purchases_without_lines() -> list[Finding]:
    sql = SqlBuilder()
    order_id = _json_text(sql, "ui.context", "orderId")
    as_text = "CAST(i.order_id AS TEXT)"
    rows = await sql.rows(
        "SELECT ui.id, ui.user_id, ui.product_id, "  # noqa: S608
        f"{order_id} AS order_id FROM user_interactions ui "
        "WHERE ui.action = 'purchase' AND NOT EXISTS (SELECT 1 FROM order_items i "
        "JOIN orders o ON o.id = i.order_id "
        f"WHERE {as_text} = {order_id} AND i.product_id = ui.product_id "
        "AND o.user_id = ui.user_id) ORDER BY ui.id"
    )
    return [
        Finding(
            "purchase_without_order_line",
            f"interaction {r['id']}",
            f"purchase of product {r['product_id']} by user {r['user_id']}, "
            f"order {r['order_id']} has no such line",
        )
        for r in rows
    ]


async def _cart_adds_not_from_cart() -> list[Finding]:
    sql = SqlBuilder()
    quantity = _json_text(sql, "context", "quantity")
    rows = await sql.rows(
        "SELECT id, user_id, session_id, product_id FROM user_interactions "  # noqa: S608
        "WHERE action = 'cart_add' AND (user_id IS NULL OR session_id IS NOT NULL "
        f"OR {quantity} IS NULL) ORDER BY id"
    )
    return [
        Finding(
            "cart_add_not_from_cart",
            f"interaction {r['id']}",
            f"cart add of product {r['product_id']} by "
            + (f"user {r['user_id']}" if r["user_id"] else f"session {r['session_id']!r}")
            + ", not recorded by addToCart",
        )
        for r in rows
    ]


async def _ar_views_without_sessions() -> list[Finding]:
    sql = SqlBuilder()
    session = _json_text(sql, "ui.context", "arSessionId")
    rows = await sql.rows(
        "SELECT ui.id, ui.user_id, ui.product_id FROM user_interactions ui "  # noqa: S608
        "WHERE ui.action = 'ar_view' AND NOT EXISTS (SELECT 1 FROM ar_sessions s "
        f"WHERE CAST(s.id AS TEXT) = {session} AND s.product_id = ui.product_id "
        "AND s.user_id = ui.user_id) ORDER BY ui.id"
    )
    return [
        Finding(
            "ar_view_without_session",
            f"interaction {r['id']}",
            f"AR view of product {r['product_id']} by user {r['user_id']} with no AR session",
        )
        for r in rows
    ]


async def _rewards_without_decisions() -> list[Finding]:
    rows = await SqlBuilder().rows(
        "SELECT r.id, r.event_id FROM recommendation_rewards r "
        "LEFT JOIN recommendation_events e ON e.id = r.event_id WHERE e.id IS NULL ORDER BY r.id"
    )
    return [
        Finding("reward_without_decision", f"reward {r['id']}", f"decision {r['event_id']} is gone")
        for r in rows
    ]


async def _reward_actions() -> list[Finding]:
    rows = await SqlBuilder().rows(
        "SELECT r.id, r.action, ui.action AS interaction_action, ui.id AS interaction_id "
        "FROM recommendation_rewards r JOIN user_interactions ui ON ui.id = r.interaction_id "
        "WHERE ui.action <> r.action ORDER BY r.id"
    )
    return [
        Finding(
            "reward_action_mismatch",
            f"reward {r['id']}",
            f"a {r['action']} reward on interaction {r['interaction_id']}, "
            f"a {r['interaction_action']}",
        )
        for r in rows
    ]


async def _decisions() -> list[Finding]:
    """Decode every logged decision, in batches, and check its rewards against it."""
    findings: list[Finding] = []
    after = 0
    while True:
        events = (
            await RecommendationEvent.filter(id__gt=after)
            .order_by("id")
            .limit(BATCH)
            .only("id", "event_id", "payload", "created_at")
        )
        if not events:
            return findings
        after = events[-1].id
        shown: dict[int, set[int]] = {}
        for event in events:
            try:
                items = decode(bytes(event.payload), created_at=event.created_at).items
            except UnreadableDecision as error:
                findings.append(
                    Finding(
                        "unreadable_decision", f"decision {event.id} ({event.event_id})", str(error)
                    )
                )
                continue
            shown[event.id] = {item.action_id for item in items}
        rewards = await RecommendationReward.filter(event_id__in=list(shown)).values_list(
            "id", "event_id", "product_id"
        )
        findings.extend(
            Finding(
                "reward_not_shown",
                f"reward {reward_id}",
                f"product {product_id} was not in the slate of decision {event_id}",
            )
            for reward_id, event_id, product_id in rewards
            if product_id not in shown[event_id]
        )


Check = Callable[[], Awaitable[list[Finding]]]
CHECKS: dict[str, Check] = {
    "negative_stock": _negative_stock,
    "order_total_mismatch": _order_totals,
    "duplicate_checkout": _duplicate_checkouts,
    "purchase_without_order_line": _purchases_without_lines,
    "cart_add_not_from_cart": _cart_adds_not_from_cart,
    "ar_view_without_session": _ar_views_without_sessions,
    "reward_without_decision": _rewards_without_decisions,
    "reward_action_mismatch": _reward_actions,
    # Decodes the decision log: reports unreadable_decision and reward_not_shown.
    "decision_log": _decisions,
}
CHECK_NAMES = [
    "negative_stock",
    "order_total_mismatch",
    "duplicate_checkout",
    "purchase_without_order_line",
    "cart_add_not_from_cart",
    "ar_view_without_session",
    "reward_without_decision",
    "reward_action_mismatch",
    "unreadable_decision",
    "reward_not_shown",
]


@asynccontextmanager
async def read_only_snapshot() -> AsyncIterator[None]:
    """On PostgreSQL, one REPEATABLE READ, READ ONLY transaction; on SQLite nothing (the
    checks only read, and a transaction there takes the write lock)."""
    if not on_postgres():
        yield
        return
    async with in_transaction() as conn:
        await conn.execute_script("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


async def audit() -> Report:
    """Run every check; the report holds each check's count and its first findings."""
    report = Report(checks=list(CHECK_NAMES), counts=dict.fromkeys(CHECK_NAMES, 0))
    async with read_only_snapshot():
        for check in CHECKS.values():
            for finding in await check():
                report.counts[finding.check] += 1
                if report.counts[finding.check] <= MAX_LISTED:
                    report.findings.append(finding)
    return report
