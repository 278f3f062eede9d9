"""Run in a subprocess by test_shutdown: a learner process stopping with a poisoned decision
in its log writer and rewards neither learned nor published must still publish them all.

(A subprocess because it needs a runtime that is the learner of its own database, and
Tortoise's connections are global to a process.) Prints JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from core import metrics
from core.db import database
from core.settings import Settings
from models import User
from models.interaction import InteractionAction
from services import seed
from services.auth import Viewer
from services.recommendations import decide, feedback
from services.recommendations.request import RecommendationRequest
from services.recommendations.rewards import RewardTable
from services.recommendations.runtime import RecommenderRuntime


async def main(url: str, data_dir: str) -> None:
    settings = Settings(
        env="test", database_url=url, data_dir=Path(data_dir), seed_on_start=False,
        snapshot_interval_seconds=3600, learn_poll_seconds=3600,
        reward_window_sweep_seconds=3600,
    )  # fmt: skip
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    async with database(settings):
        await seed.seed_demo(products=60, currency="USD")
        user = await User.create(clerk_id="user_shutdown")
        viewer = Viewer(user=user)
        runtime = RecommenderRuntime(settings)
        await runtime.start(None)
        assert runtime.is_learner

        async def reward(n: int) -> None:
            for _ in range(n):
                decision, products = await decide.recommendations(
                    runtime, viewer, RecommendationRequest(k=3, page="home")
                )
                await feedback.record_interaction(
                    rewards=RewardTable(), runtime=runtime, product_id=products[0].id,
                    action=InteractionAction.TICK, user_id=user.id, session_id=None,
                    event_id=decision.event_id,
                )  # fmt: skip

        await reward(1)
        await runtime.learn_pending()
        first = await runtime.publish_snapshot()
        await reward(3)
        await runtime.learn_pending()  # learned, not published
        await reward(2)  # not even learned
        # A decision no writer can store, still pending in the log writer at shutdown.
        await decide.recommendations(
            runtime, viewer, RecommendationRequest(k=3, features={"x": 2**64})
        )
        await runtime.stop()  # what the app's shutdown hook runs
        newest = await runtime.store.newest()
    print(
        json.dumps(
            {
                "first": first.position.learned,
                "final": newest.position.learned,
                "versions": [first.version, newest.version],
                "skipped": metrics.BACKGROUND_ROWS_SKIPPED.labels("decision_log")._value.get(),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
