"""Migrations that convert data, run on both databases with legacy rows in place."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _migrate_with_data(url: str) -> list[list]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.models.migrate_with_data", url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


EXPECTED = [
    [1, 10, "tick", "opinion"],  # the first opinion is kept, the cross after it dropped
    [1, 10, "purchase", "purchase"],
    [1, 11, "none", "none"],
    [2, 10, "cross", "opinion"],
]


def test_reward_signals_migration_on_sqlite(tmp_path):
    assert _migrate_with_data(f"sqlite://{tmp_path / 'legacy.sqlite3'}") == EXPECTED


async def test_reward_signals_migration_on_postgres(postgres_url):
    name = f"migration_{uuid.uuid4().hex[:10]}"
    admin_url = postgres_url.rsplit("/", 1)[0].replace("postgres://", "postgresql://", 1)
    admin = await asyncpg.connect(f"{admin_url}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"{postgres_url.rsplit('/', 1)[0]}/{name}"
        assert _migrate_with_data(url) == EXPECTED
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(autouse=True)
def _no_app():
    """These tests need no app (and must not share its database)."""
    return None


def _expected_unique_columns(model) -> set[frozenset[str]]:
    meta = model._meta
    expected = set()
    for fields in meta.unique_together or ():
        expected.add(
            frozenset(
                meta.fields_map[f].source_field or meta.fields_db_projection[f] for f in fields
            )
        )
    for name, field in meta.fields_map.items():
        if name in meta.fetch_fields and not getattr(field, "source_field", None):
            continue  # reverse relations have no column
        if field.unique and not field.pk and name in meta.fields_db_projection:
            expected.add(frozenset({meta.fields_db_projection[name]}))
        if field.unique and getattr(field, "source_field", None):
            expected.add(frozenset({field.source_field}))
    return expected


async def _unique_columns(conn, postgres: bool, table: str) -> set[frozenset[str]]:
    if postgres:
        rows = await conn.execute_query_dict(
            "SELECT array_agg(a.attname::text) AS cols FROM pg_index i"
            " JOIN pg_class t ON t.oid = i.indrelid"
            " JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(i.indkey)"
            " WHERE t.relname = $1 AND i.indisunique AND NOT i.indisprimary"
            " GROUP BY i.indexrelid",
            [table],
        )
        return {frozenset(r["cols"]) for r in rows}
    found = set()
    for index in await conn.execute_query_dict(f'PRAGMA index_list("{table}")'):
        if index["unique"] and index["origin"] != "pk":
            info = await conn.execute_query_dict(f'PRAGMA index_info("{index["name"]}")')
            found.add(frozenset(c["name"] for c in info))
    return found


async def test_every_unique_rule_of_the_models_is_in_the_database(settings, db):
    """Regression: on SQLite, migration 0006 rebuilt recommendation_rewards and the rebuild
    silently dropped its unique indexes (Tortoise's table remake), so duplicate rewards were
    only kept out by the application."""
    from tortoise import Tortoise, connections

    conn = connections.get("default")
    missing = {}
    for model in Tortoise.apps["shop"].values():
        table = model._meta.db_table
        have = await _unique_columns(conn, settings.is_postgres, table)
        lacking = _expected_unique_columns(model) - have
        if lacking:
            missing[table] = sorted(sorted(c) for c in lacking)
    assert missing == {}
