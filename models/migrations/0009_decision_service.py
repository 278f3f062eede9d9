"""The recommender as a decision service.

- `recommendation_learner` (the learner's term, for fencing) and
  `recommendation_model_snapshots` (published models).
- Decisions move from four JSON columns (~7 KB for 150 candidates) to one compact binary
  `payload` (`services.recommendations.decisions`, ~1.4 KB). Existing rows are converted
  in batches, then the JSON columns are dropped. A row that cannot be converted (none
  should exist: the old writer could only store valid JSON) is logged and deleted with
  its rewards, so the upgrade is never blocked by one bad row.
- `recommendation_rewards.txid`: on PostgreSQL a trigger stores the inserting transaction's
  id, so the learner can read rewards in an order no later commit can slip into.
"""

import logging
from datetime import datetime
from decimal import Decimal

import orjson
from tortoise import fields, migrations
from tortoise.fields.data import JSON_DUMPS
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from models.migrations._dialect import DropColumn, SetNotNull, per_dialect

logger = logging.getLogger("shopgraph.migrations")

BATCH = 500

TXID_TRIGGER = """
CREATE FUNCTION recommendation_rewards_txid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.txid := pg_current_xact_id()::text::bigint;
    RETURN NEW;
END
$$;
CREATE TRIGGER recommendation_rewards_txid BEFORE INSERT ON recommendation_rewards
    FOR EACH ROW EXECUTE FUNCTION recommendation_rewards_txid();
"""
DROP_TXID_TRIGGER = """
DROP TRIGGER IF EXISTS recommendation_rewards_txid ON recommendation_rewards;
DROP FUNCTION IF EXISTS recommendation_rewards_txid();
"""


def _json(value):
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _legacy_payload(row) -> bytes:
    """The version-1 payload of a row in the old JSON columns."""
    from bandit.features import ActionFeatures, ContextFeatures
    from bandit.slates import Slate, SlateItem
    from services.recommendations.decisions import Decision, encode, loggable

    created_at = row["created_at"]
    if isinstance(created_at, str):
        created_at = datetime.fromisoformat(created_at)
    context = dict(_json(row["context"]) or {})
    stamp = context.get("timestamp")
    context["timestamp"] = datetime.fromisoformat(stamp) if stamp else None
    context["recent_categories"] = tuple(context.get("recent_categories") or ())
    known = ContextFeatures.__dataclass_fields__
    ids = _json(row["candidate_ids"]) or []
    states = _json(row["candidate_state"]) or [[None, None, None]] * len(ids)
    candidates = tuple(
        loggable(
            ActionFeatures(
                action_id=int(pid),
                price=None if price is None else Decimal(price),
                popularity=popularity,
                created_days_ago=age,
            )
        )
        for pid, (price, popularity, age) in zip(ids, states, strict=True)
    )
    items = tuple(
        SlateItem(int(i["productId"]), int(i["slot"]), float(i["probability"]), float(i["score"]))
        for i in _json(row["items"]) or []
    )
    decision = Decision(
        event_id="",
        user_id=row["user_id"],
        session_id=None,
        context=ContextFeatures(**{k: v for k, v in context.items() if k in known}),
        candidates=candidates,
        slate=Slate(items=items, model_version=""),
        created_at=created_at,
    )
    return encode(decision)


async def convert_decisions(_apps, schema_editor) -> None:
    client = schema_editor.client
    postgres = schema_editor.DIALECT == "postgres"
    mark = "$1" if postgres else "?"
    update = f"UPDATE recommendation_events SET payload = {mark} WHERE id = {'$2' if postgres else '?'}"
    after, converted, dropped = 0, 0, []
    while True:
        _, rows = await client.execute_query(
            "SELECT id, user_id, context, candidate_ids, candidate_state, items, created_at "
            f"FROM recommendation_events WHERE id > {mark} ORDER BY id LIMIT {BATCH}",
            [after],
        )
        if not rows:
            break
        after = rows[-1]["id"]
        updates = []
        for row in rows:
            try:
                updates.append([_legacy_payload(row), row["id"]])
            except Exception:
                logger.exception("decision row %s cannot be converted; deleting it", row["id"])
                dropped.append(row["id"])
        if updates:
            await client.execute_many(update, updates)
        converted += len(updates)
    for row_id in dropped:
        await client.execute_query(
            f"DELETE FROM recommendation_rewards WHERE event_id = {mark}", [row_id]
        )
        await client.execute_query(f"DELETE FROM recommendation_events WHERE id = {mark}", [row_id])
    if converted or dropped:
        logger.info("converted %d decision rows, deleted %d", converted, len(dropped))


class Migration(migrations.Migration):
    dependencies = [("shop", "0008_persisted_documents")]

    initial = False

    operations = [
        ops.CreateModel(
            name="LearnerTerm",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("term", fields.BigIntField(default=0)),
                ("holder", fields.CharField(default="", max_length=200)),
                ("elected_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "recommendation_learner",
                "app": "shop",
                "pk_attr": "id",
                "table_description": "One row: the term of the current learner, incremented by each process that wins the",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ModelSnapshot",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("term", fields.BigIntField()),
                ("model_version", fields.CharField(max_length=64)),
                ("config", fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=orjson.loads)),
                ("cursor_txid", fields.BigIntField(default=0)),
                ("cursor_id", fields.BigIntField(default=0)),
                ("learned", fields.BigIntField(default=0)),
                ("skipped", fields.BigIntField(default=0)),
                ("digest", fields.CharField(max_length=64)),
                ("model", fields.BinaryField(null=True)),
                ("location", fields.CharField(null=True, max_length=1024)),
                ("sha256", fields.CharField(max_length=64)),
                ("size", fields.IntField()),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "recommendation_model_snapshots",
                "app": "shop",
                "pk_attr": "id",
                "table_description": "A published recommendation model: what every serving process ranks with.",
            },
            bases=["Model"],
        ),
        ops.AddField(
            model_name="RecommendationEvent", name="payload", field=fields.BinaryField(null=True)
        ),
        ops.RunPython(convert_decisions),
        DropColumn(model_name="RecommendationEvent", name="candidate_ids"),
        DropColumn(model_name="RecommendationEvent", name="candidate_state"),
        DropColumn(model_name="RecommendationEvent", name="context"),
        DropColumn(model_name="RecommendationEvent", name="items"),
        SetNotNull(model_name="RecommendationEvent", name="payload", field=fields.BinaryField()),
        ops.AddField(
            model_name="RecommendationReward", name="txid", field=fields.BigIntField(default=0, db_default=0)
        ),
        ops.AddIndex(model_name="RecommendationReward", index=Index(fields=["txid", "id"])),
        ops.RunPython(
            per_dialect(postgres=TXID_TRIGGER),
            per_dialect(postgres=DROP_TXID_TRIGGER),
        ),
    ]
