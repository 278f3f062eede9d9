"""Export the logged decisions and their rewards in the shopgraph JSONL format
(`bandit.logs`), one line per shown slot, for `shop bandit evaluate` and other tools.

With `before`, only decisions made before that time: the archive to take before the
retention purge (`DECISION_LOG_RETENTION_DAYS`) deletes them. The export reads what is
retained; a decision that cannot be decoded, or whose candidates were deleted since, is
skipped and counted in the returned summary.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from bandit.features import ActionFeatures
from bandit.logs import LoggedDecision, decision_log_line
from bandit.slates import SlateItem
from models import RecommendationEvent, RecommendationReward
from services.recommendations.candidates import learner_views
from services.recommendations.decisions import (
    Decision,
    UnreadableDecision,
    candidate_ids,
    rebuild,
)

BATCH = 500


@dataclass(frozen=True)
class ExportSummary:
    lines: int
    decisions: int
    skipped: int


@dataclass(frozen=True)
class LoggedSlot:
    """One shown slot of a retained decision and the reward it earned (None: open window)."""

    event: RecommendationEvent
    decision: Decision
    item: SlateItem
    reward: float | None

    def line(self) -> str:
        """The slot as a line of the shopgraph JSONL log."""
        return decision_log_line(
            event_id=f"{self.event.event_id}:{self.item.slot}",
            context=self.decision.context,
            candidates=self.candidates,
            chosen=self.item.action_id,
            slot=self.item.slot,
            probability=self.item.probability,
            reward=self.reward,
            model_version=self.event.model_version,
            time=self.event.created_at,
        )

    @property
    def candidates(self) -> tuple[ActionFeatures, ...]:
        return tuple(self.decision.slate.candidates_at(self.item.slot, self.decision.candidates))

    def record(self) -> LoggedDecision:
        """The slot as a `bandit.logs.LoggedDecision` (an open window counts as reward 0)."""
        return LoggedDecision(
            event_id=f"{self.event.event_id}:{self.item.slot}",
            time=self.event.created_at,
            context=self.decision.context,
            candidates=self.candidates,
            chosen_id=self.item.action_id,
            slot=self.item.slot,
            probability=self.item.probability,
            reward=self.reward or 0.0,
            model_version=self.event.model_version,
        )


async def logged_slots(
    *, include_open: bool = False, before: datetime | None = None, skipped: list[int] | None = None
) -> AsyncIterator[LoggedSlot]:
    """Every shown slot of the retained decisions, oldest first; a slot's reward is the sum
    of the rewards it earned (the default reward included). Decisions whose window is open
    are left out unless asked for, and then carry reward None. Decisions that cannot be
    rebuilt are counted into `skipped[0]` when given."""
    after = 0
    while True:
        query = RecommendationEvent.filter(id__gt=after)
        if not include_open:
            query = query.filter(closed=True)
        if before is not None:
            query = query.filter(created_at__lt=before)
        events = await query.order_by("id").limit(BATCH)
        if not events:
            return
        after = events[-1].id
        totals: dict[tuple[int, int], float] = defaultdict(float)
        rows = await RecommendationReward.filter(event_id__in=[e.id for e in events]).values_list(
            "event_id", "product_id", "reward"
        )
        for event_pk, product_id, reward in rows:
            totals[(event_pk, product_id)] += reward
        products = await learner_views(candidate_ids(events))
        for event in events:
            try:
                decision = rebuild(event, products)
            except UnreadableDecision:
                decision = None
            if decision is None:
                if skipped is not None:
                    skipped[0] += 1
                continue
            for item in decision.slate.items:
                key = (event.id, item.action_id)
                reward = totals.get(key, 0.0) if event.closed else totals.get(key)
                yield LoggedSlot(event, decision, item, reward)


async def export_log(
    out: TextIO, *, include_open: bool = False, before: datetime | None = None
) -> ExportSummary:
    """Write every decision-slot (see `logged_slots`)."""
    written = 0
    skipped = [0]
    events: set[int] = set()
    async for slot in logged_slots(include_open=include_open, before=before, skipped=skipped):
        out.write(slot.line() + "\n")
        events.add(slot.event.id)
        written += 1
    return ExportSummary(written, len(events), skipped[0])
