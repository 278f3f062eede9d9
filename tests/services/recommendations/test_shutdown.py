"""Stopping the learner always publishes a last snapshot, even with a poisoned decision in
its log writer (before issue 12's fix the writer raised on it forever and the shutdown
skipped the final checkpoint)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.services import fresh_postgres_database

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request) -> str:
    return "" if request.param == "sqlite" else await fresh_postgres_database("shutdown")


def test_the_last_snapshot_holds_every_reward(database_url, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "tests.services.recommendations.shutdown_probe", database_url,
         str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["first"] == 1
    assert out["final"] == 6  # 3 learned and 2 unlearned at stop: all in the last snapshot
    assert out["versions"][1] > out["versions"][0]
    assert out["skipped"] == 1  # the poisoned decision was set aside, not retried forever
