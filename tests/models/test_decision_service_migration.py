"""Migration 0007 converts decisions logged in the old JSON columns to the compact format,
keeps their rewards, and leaves the indexes in place (SQLite included)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.services import fresh_postgres_database

ROOT = Path(__file__).resolve().parents[2]


def _probe(url: str, data_dir: Path) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "tests.models.migration_probe", url, str(data_dir)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return ""
    return await fresh_postgres_database("migration")


async def test_old_decisions_are_converted_and_keep_their_rewards(database_url, tmp_path):
    out = _probe(database_url, tmp_path)
    first, second = out["events"]
    assert first["candidate_ids"] == [3, 1, 2]
    # Logged in the precision the learner uses: cents, thousandths, whole days.
    assert first["states"] == [["19.99", 12.3, 45.0], [None, 0.0, 400.0], ["5.00", 3.142, 6.0]]
    assert first["items"] == [[1, 0, 0.5, 0.25], [2, 1, 0.75, -1.0]]
    assert first["context"] == {
        "timestamp": "2025-01-02T10:00:00+00:00", "device": "mobile",
        "preferences": {"favourite_categories": ["Shoes"]}, "recent_categories": ["Shoes"],
        "features": {"ab": 1}, "user_id": None,
    }  # fmt: skip
    assert second["context"]["timestamp"] is None and second["context"]["user_id"] == 7
    assert second["states"] == [["1.50", 1.0, 1.0]]
    # The reward on the first decision survived (a table rebuild on SQLite would cascade).
    assert out["rewards"] == [{"event_id": 1, "txid": 0}]
    if not database_url:
        with sqlite3.connect(tmp_path / "shopgraph.sqlite3") as conn:
            indexes = {
                row[0]
                for row in conn.execute(
                    "SELECT sql FROM sqlite_master WHERE type = 'index' "
                    "AND tbl_name = 'recommendation_events' AND sql IS NOT NULL"
                )
            }
        assert any('("closed", "created_at")' in sql for sql in indexes), indexes
        assert any('("user_id", "created_at")' in sql for sql in indexes), indexes
