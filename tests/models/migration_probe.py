"""Run in a subprocess by test_decision_service_migration: migrate a fresh database to 0007,
write decisions in the old JSON format, migrate to the latest, print what came out as JSON.

(A subprocess because Tortoise's connections are global to the process.)
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from tortoise import Tortoise, connections
from tortoise.migrations.api import migrate

from core.db import tortoise_config
from core.settings import Settings

OLD_ROWS = [
    {
        "event_id": "a" * 32,
        "context": {
            "user_id": None,
            "timestamp": "2025-01-02T10:00:00+00:00",
            "device": "mobile",
            "page": "home",
            "preferences": {"favourite_categories": ["Shoes"]},
            "recent_categories": ["Shoes"],
            "viewed_category": None,
            "viewed_brand": None,
            "features": {"ab": 1},
        },
        "candidate_ids": [3, 1, 2],
        "candidate_state": [
            ["19.99", 12.299999999999999, 45.6789],
            [None, 0.0, 400.2],
            ["5.00", 3.1415, 6.999],
        ],
        "items": [
            {"productId": 1, "slot": 0, "probability": 0.5, "score": 0.25},
            {"productId": 2, "slot": 1, "probability": 0.75, "score": -1.0},
        ],
    },
    {
        "event_id": "b" * 32,
        "context": {
            "user_id": 7,
            "timestamp": None,
            "device": None,
            "page": None,
            "preferences": {},
            "recent_categories": [],
            "viewed_category": None,
            "viewed_brand": None,
            "features": {},
        },
        "candidate_ids": [5],
        "candidate_state": [["1.50", 1.0, 1.0]],
        "items": [{"productId": 5, "slot": 0, "probability": 1.0, "score": 0.0}],
    },
]


async def main(url: str, data_dir: str) -> None:
    settings = Settings(env="test", database_url=url, data_dir=Path(data_dir))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    config = tortoise_config(settings)
    await migrate(config=config, target="shop.0007_reward_signals")
    await Tortoise.close_connections()
    await Tortoise.init(config=config)
    conn = connections.get("default")
    pg = settings.is_postgres
    marks = ", ".join(f"${i}" if pg else "?" for i in range(1, 9))
    for row in OLD_ROWS:
        await conn.execute_query(
            "INSERT INTO recommendation_events (event_id, context, candidate_ids, candidate_state, "
            f"items, model_version, created_at, closed) VALUES ({marks})",
            [row["event_id"], json.dumps(row["context"]), json.dumps(row["candidate_ids"]),
             json.dumps(row["candidate_state"]), json.dumps(row["items"]), "old:1",
             datetime(2025, 1, 2, 10, 0, tzinfo=UTC) if pg else "2025-01-02T10:00:00+00:00",
             True],
        )  # fmt: skip
    _, events = await conn.execute_query("SELECT id FROM recommendation_events ORDER BY id")
    reward_marks = ", ".join(f"${i}" if pg else "?" for i in range(1, 9))
    await conn.execute_query(
        "INSERT INTO recommendation_rewards (event_id, product_id, action, signal, reward, "
        f"slot, probability, created_at) VALUES ({reward_marks})",
        [events[0]["id"], 1, "tick", "opinion", 1.0, 0, 0.5,
         datetime.now(UTC) if pg else datetime.now(UTC).isoformat()],
    )  # fmt: skip
    await Tortoise.close_connections()
    await migrate(config=config)
    await Tortoise.close_connections()
    await Tortoise.init(config=config)
    from models import RecommendationEvent, RecommendationReward
    from services.recommendations.decisions import decode

    out = []
    for event in await RecommendationEvent.all().order_by("id"):
        logged = decode(event.payload, created_at=event.created_at)
        out.append(
            {
                "event_id": event.event_id,
                "bytes": len(event.payload),
                "context": {
                    "timestamp": None
                    if logged.context.timestamp is None
                    else logged.context.timestamp.isoformat(),
                    "device": logged.context.device,
                    "preferences": dict(logged.context.preferences),
                    "recent_categories": list(logged.context.recent_categories),
                    "features": dict(logged.context.features),
                    "user_id": logged.context.user_id,
                },
                "candidate_ids": list(logged.candidate_ids),
                "states": [[None if p is None else str(p), q, a] for p, q, a in logged.states],
                "items": [[i.action_id, i.slot, i.probability, i.score] for i in logged.items],
            }
        )
    rewards = await RecommendationReward.all().values("event_id", "txid")
    print(json.dumps({"events": out, "rewards": rewards}))
    await Tortoise.close_connections()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
