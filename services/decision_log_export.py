"""Export the logged decisions and their rewards in the shopgraph JSONL format
(`bandit.logs`), one line per shown slot, for `shop bandit evaluate` and other tools."""

from __future__ import annotations

from collections import defaultdict
from typing import TextIO

from bandit.logs import decision_log_line
from models import RecommendationEvent, RecommendationReward
from services.recommender import rebuild_decision

BATCH = 500


async def export_log(out: TextIO, *, include_open: bool = False) -> int:
    """Write every decision-slot; a slot's reward is the sum of the rewards it earned (the
    default reward included). Decisions whose window is open are skipped unless asked for,
    and then carry `reward: null`. Returns the number of lines written."""
    written, after = 0, 0
    while True:
        query = RecommendationEvent.filter(id__gt=after)
        if not include_open:
            query = query.filter(closed=True)
        events = await query.order_by("id").limit(BATCH)
        if not events:
            return written
        after = events[-1].id
        totals: dict[tuple[int, int], float] = defaultdict(float)
        rows = await RecommendationReward.filter(event_id__in=[e.id for e in events]).values_list(
            "event_id", "product_id", "reward"
        )
        for event_pk, product_id, reward in rows:
            totals[(event_pk, product_id)] += reward
        for event in events:
            decision = await rebuild_decision(event)
            if decision is None:
                continue
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
