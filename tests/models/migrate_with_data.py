"""Run in a subprocess by test_migrations.py (Tortoise keeps global state, so migrating a
second database inside the test process would disturb the app's connections).

    python -m tests.models.migrate_with_data DATABASE_URL
Migrates to 0006, writes legacy rows, migrates to the latest, prints what is left as JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys

from tortoise import Tortoise, connections
from tortoise.migrations.api.migrate import migrate

from core.db import tortoise_config
from core.settings import Settings

LEGACY_REWARDS = [
    # (event, product, action): a tick then a cross on one item, a purchase beside them.
    (1, 10, "tick"),
    (1, 10, "cross"),
    (1, 10, "purchase"),
    (1, 11, "none"),
    (2, 10, "cross"),
]


async def main(url: str) -> None:
    config = tortoise_config(Settings(env="test", database_url=url))
    await migrate(config=config, target="shop.0006_reward_window")
    conn = connections.get("default")
    postgres = conn.capabilities.dialect == "postgres"
    p = (lambda i: f"${i}") if postgres else (lambda _i: "?")
    for event in (1, 2):
        await conn.execute_query(
            "INSERT INTO recommendation_events (event_id, session_id, context, candidate_ids,"
            " candidate_state, items, model_version, created_at, closed) VALUES"
            f" ({p(1)}, 's', '{{}}', '[]', '[]', '[]', 'v1', CURRENT_TIMESTAMP, false)",
            [f"e{event}"],
        )
    for event, product, action in LEGACY_REWARDS:
        await conn.execute_query(
            "INSERT INTO recommendation_rewards (event_id, product_id, action, reward, slot,"
            f" probability, created_at) VALUES ({p(1)}, {p(2)}, {p(3)}, 1.0, 0, 0.5,"
            " CURRENT_TIMESTAMP)",
            [event, product, action],
        )
    await Tortoise.close_connections()
    await migrate(config=config)
    rows = await connections.get("default").execute_query_dict(
        "SELECT event_id, product_id, action, signal FROM recommendation_rewards ORDER BY id"
    )
    print(json.dumps([[r["event_id"], r["product_id"], r["action"], r["signal"]] for r in rows]))
    await Tortoise.close_connections()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
