"""Export the logged decisions and their rewards in the shopgraph JSONL format
(`bandit.logs`), one line per shown slot, for `shop bandit evaluate` and other tools.

With `before`, only decisions made before that time: the archive to take before the
retention purge (`DECISION_LOG_RETENTION_DAYS`) deletes them. The export reads what is
retained; a decision that cannot be decoded, or whose candidates were deleted since, is
skipped and counted in the returned summary.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from bandit.logs import decision_log_line
from models import RecommendationEvent, RecommendationReward
from services.recommendations.candidates import learner_views
from services.recommendations.decisions import UnreadableDecision, candidate_ids, rebuild

BATCH = 500


@dataclass(frozen=True)
class ExportSummary:
    lines: int
    decisions: int
    skipped: int


async def export_log(
    out: TextIO, *, include_open: bool = False, before: datetime | None = None
) -> ExportSummary:
    """Write every decision-slot; a slot's reward is the sum of the rewards it earned (the
    default reward included). Decisions whose window is open are skipped unless asked for,
    and then carry `reward: null`."""
    written = decisions = skipped = 0
    after = 0
    while True:
        query = RecommendationEvent.filter(id__gt=after)
        if not include_open:
            query = query.filter(closed=True)
        if before is not None:
            query = query.filter(created_at__lt=before)
        events = await query.order_by("id").limit(BATCH)
        if not events:
            return ExportSummary(written, decisions, skipped)
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
                skipped += 1
                continue
            decisions += 1
            for item in decision.slate.items:
                key = (event.id, item.action_id)
                reward = totals.get(key, 0.0) if event.closed else totals.get(key)
                out.write(
                    decision_log_line(
                        event_id=f"{event.event_id}:{item.slot}",
                        context=decision.context,
                        candidates=decision.slate.candidates_at(item.slot, decision.candidates),
                        chosen=item.action_id,
                        slot=item.slot,
                        probability=item.probability,
                        reward=reward,
                        model_version=event.model_version,
                        time=event.created_at,
                    )
                    + "\n"
                )
                written += 1
