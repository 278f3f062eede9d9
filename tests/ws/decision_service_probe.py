"""Run in a subprocess by test_decision_service: the exactly-once audit of a database.

Learns every logged reward once, in order, from scratch (the reference), and compares it
with the newest published snapshot: same count, same hash chain over the reward ids, and
the same model -- the same action probabilities on logged decisions. A reward the learners
lost or learned twice changes the weights, whatever the counters say. Prints JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys

import numpy as np

from bandit.learner import BanditLearner
from core.db import database
from core.settings import Settings
from models import RecommendationEvent, RecommendationReward
from services.recommendations.candidates import CatalogIndexHolder, learner_views
from services.recommendations.decisions import candidate_ids, rebuild
from services.recommendations.model import VWThread, learner_from_snapshot
from services.recommendations.snapshots import Position, SnapshotStore


async def main(url: str) -> None:
    settings = Settings(env="test", database_url=url)
    async with database(settings, migrate_first=False):
        catalog = CatalogIndexHolder()
        await catalog.load()
        store = SnapshotStore(settings)
        snapshot = await store.newest()
        thread = VWThread("audit")
        published = await thread.call(
            "load", learner_from_snapshot, snapshot, await store.read(snapshot)
        )
        # The reference: a plain loop over every reward row in (txid, id) order, apart from
        # the learner's reading code (no horizon, no batches, no position).
        reference = BanditLearner()
        rows = await RecommendationReward.all().order_by("txid", "id")
        logged = {
            e.id: e for e in await RecommendationEvent.filter(id__in={r.event_id for r in rows})
        }
        products = await learner_views(candidate_ids(logged.values()), catalog.index)
        position = Position()
        for row in rows:
            decision = rebuild(logged[row.event_id], products)
            reference.learn(
                decision.slate.example_for(
                    row.product_id, row.reward, context=decision.context,
                    candidates=decision.candidates,
                )
            )  # fmt: skip
            position = position.after(row.id, row.txid, learned=True)
        learned = position.learned
        events = await RecommendationEvent.all().order_by("-id").limit(20)
        products = await learner_views(candidate_ids(events), catalog.index)
        diffs = []
        for event in events:
            decision = rebuild(event, products)
            a = published.action_probabilities(decision.context, decision.candidates)
            b = reference.action_probabilities(decision.context, decision.candidates)
            diffs.append(float(np.max(np.abs(a - b))))
        result = {
            "rewards": await RecommendationReward.all().count(),
            "snapshot": {"learned": snapshot.position.learned,
                         "skipped": snapshot.position.skipped,
                         "digest": snapshot.position.digest, "term": snapshot.term,
                         "updates": published.updates},
            "reference": {"learned": learned, "digest": position.digest,
                          "updates": reference.updates},
            "max_probability_difference": max(diffs) if diffs else None,
        }  # fmt: skip
        thread.close()
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
