"""Decision-log row size: the compact payload against the JSON columns it replaced.

Decides `--decisions` slates of 10 from 150 candidates through the service layer on a
seeded catalog (a temporary SQLite database, or `--database-url` for PostgreSQL), then
reports per decision:
  - the old format: the four JSON columns as the previous writer stored them (context,
    candidate ids, candidate [price, popularity, age] states, items), measured as the JSON
    text it wrote;
  - the new format: the `payload` bytes;
  - on PostgreSQL, the whole stored row (`pg_column_size` of the row, TOAST compression
    included) of the new format.

    .venv/bin/python -m bench.decision_log_size [--decisions 200] [--products 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
from dataclasses import asdict, replace
from pathlib import Path

from core.db import database
from core.settings import Settings


def old_columns(decision) -> list:
    """The JSON columns `Decision.to_row` wrote before the compact format."""
    context = asdict(decision.context)
    context["timestamp"] = decision.context.timestamp.isoformat()
    context["recent_categories"] = list(decision.context.recent_categories)
    columns = [
        context,
        [c.action_id for c in decision.candidates],
        [
            [None if c.price is None else str(c.price), c.popularity, c.created_days_ago]
            for c in decision.candidates
        ],
        [
            {"productId": i.action_id, "slot": i.slot, "probability": i.probability,
             "score": i.score}
            for i in decision.slate.items
        ],
    ]  # fmt: skip
    return columns


def old_json_bytes(decision) -> int:
    return sum(len(json.dumps(column)) for column in old_columns(decision))


async def run(args) -> None:
    from models import RecommendationEvent, User
    from services import seed
    from services.auth import Viewer
    from services.recommendations import decide
    from services.recommendations.candidates import action_features
    from services.recommendations.request import RecommendationRequest
    from services.recommendations.runtime import RecommenderRuntime

    data_dir = Path(tempfile.mkdtemp(prefix="shopgraph-bench-size-"))
    settings = Settings(env="test", data_dir=data_dir, database_url=args.database_url)
    if settings.is_postgres:
        from bench.catalog import prepare_database

        await prepare_database(settings.resolved_database_url, args.products)
    async with database(settings):
        if not settings.is_postgres:
            await seed.seed_demo(products=args.products, currency="USD")
        runtime = RecommenderRuntime(settings, stand_for_learner=False)
        await runtime.start(None)
        user, _ = await User.get_or_create(
            clerk_id="user_bench_size", defaults={"preferences": {"styles": ["sport"]}}
        )
        old, new, unquantised, old_rows = [], [], [], []
        for i in range(args.decisions):
            decision, _ = await decide.recommendations(
                runtime, Viewer(user=user), RecommendationRequest(k=10, page=f"p{i % 4}")
            )
            new.append(len(decision.to_row().payload))
            old.append(old_json_bytes(decision))
            # The old writer logged ages at full float precision, not in whole days.
            products = {p.id: p for p in runtime.catalog.index.products.values()}
            raw = [
                action_features(products[c.action_id]).with_state(
                    price=c.price, popularity=c.popularity,
                    created_days_ago=c.created_days_ago + 0.123456789012,
                )
                for c in decision.candidates
            ]  # fmt: skip
            legacy = replace(decision, candidates=tuple(raw))
            unquantised.append(old_json_bytes(legacy))
            old_rows.append((decision, old_columns(legacy)))
        await runtime.decisions.flush()
        await runtime.stop()
        row_bytes = old_row_bytes = None
        if settings.is_postgres:
            from tortoise import connections

            conn = connections.get("default")
            rows = await conn.execute_query_dict(
                "SELECT avg(pg_column_size(e.*)) AS n FROM recommendation_events e"
            )
            row_bytes = float(rows[0]["n"])
            # The old table's row, stored the way migration 0005 stored it (jsonb columns).
            await conn.execute_script(
                "DROP TABLE IF EXISTS bench_old_events;"
                "CREATE TABLE bench_old_events (id bigserial, event_id varchar(36), user_id int,"
                " session_id varchar(100), context jsonb, candidate_ids jsonb,"
                " candidate_state jsonb, items jsonb, model_version varchar(64),"
                " created_at timestamptz, closed boolean)"
            )
            for decision, columns in old_rows:
                await conn.execute_query(
                    "INSERT INTO bench_old_events (event_id, user_id, session_id, context,"
                    " candidate_ids, candidate_state, items, model_version, created_at, closed)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, false)",
                    [decision.event_id, decision.user_id, decision.session_id,
                     *(json.dumps(c) for c in columns), decision.slate.model_version,
                     decision.created_at],
                )  # fmt: skip
            rows = await conn.execute_query_dict(
                "SELECT avg(pg_column_size(e.*)) AS n FROM bench_old_events e"
            )
            old_row_bytes = float(rows[0]["n"])
            await conn.execute_script("DROP TABLE bench_old_events")
        await RecommendationEvent.all().delete()
    print(f"\n{args.decisions} decisions of 10 items from up to 150 candidates, "
          f"{args.products} products\n")  # fmt: skip
    print(f"old JSON columns (ages at full precision): {statistics.fmean(unquantised):7.0f} B")
    print(f"old JSON columns (same logged values):     {statistics.fmean(old):7.0f} B")
    print(f"new payload:                                {statistics.fmean(new):7.0f} B  "
          f"({statistics.fmean(unquantised) / statistics.fmean(new):.1f}x smaller)")  # fmt: skip
    if row_bytes is not None:
        print(f"old whole row on PostgreSQL (jsonb, TOAST): {old_row_bytes:7.0f} B")
        print(f"new whole row on PostgreSQL:                {row_bytes:7.0f} B  "
              f"({old_row_bytes / row_bytes:.1f}x smaller)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--decisions", type=int, default=200)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
