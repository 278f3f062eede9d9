"""Decision-log retention: old decisions are purged in batches, never one with a reward the
published model has not learned; `export-log --before` archives them first; evaluation
works on what is retained."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bandit.evaluation import evaluate_file
from models import RecommendationEvent, RecommendationReward, User
from models.interaction import InteractionAction
from services.auth import Viewer
from services.recommendations import decide, feedback, retention
from services.recommendations.export import export_log
from services.recommendations.request import RecommendationRequest
from services.recommendations.rewards import RewardTable
from tests.support.graphql import count_queries

ROOT = Path(__file__).resolve().parents[3]
NOW = datetime.now(UTC)


async def _decisions(runtime, user, n: int, *, days_ago: float, rewarded: bool) -> list[str]:
    ids = []
    for i in range(n):
        decision, products = await decide.recommendations(
            runtime, Viewer(user=user), RecommendationRequest(k=3, page=f"p{i % 2}")
        )
        if rewarded:
            await feedback.record_interaction(
                rewards=RewardTable(), runtime=runtime, product_id=products[0].id,
                action=InteractionAction.TICK, user_id=user.id, session_id=None,
                event_id=decision.event_id,
            )  # fmt: skip
        ids.append(decision.event_id)
    await runtime.decisions.flush()
    await RecommendationEvent.filter(event_id__in=ids).update(
        created_at=NOW - timedelta(days=days_ago)
    )
    return ids


async def test_purge_deletes_old_learned_decisions_in_batches(app, catalog):
    runtime = app.state.recommender
    user = await User.create(clerk_id="user_retention")
    old = await _decisions(runtime, user, 5, days_ago=100, rewarded=True)
    recent = await _decisions(runtime, user, 3, days_ago=1, rewarded=True)
    await runtime.learn_pending()
    await runtime.publish_snapshot()
    # Logged after the snapshot: its reward is in no published model yet.
    unlearned = await _decisions(runtime, user, 1, days_ago=100, rewarded=True)
    published = (await runtime.store.newest()).position
    assert published.learned == 8

    cutoff = retention.cutoff_for(90)
    with count_queries() as sent:
        purged = await retention.purge_before(cutoff, learned=published, batch=2)
    assert purged == 5
    deletes = [q for q in sent if q.lstrip().upper().startswith("DELETE")]
    assert len(deletes) == 3  # batches of 2, 2 and 1: no statement holds the table long
    left = set(await RecommendationEvent.all().values_list("event_id", flat=True))
    assert left == set(recent) | set(unlearned)
    assert not left & set(old)
    # Their rewards went with them; the unlearned one stays until a snapshot holds it.
    assert await RecommendationReward.all().count() == 4
    await runtime.learn_pending()
    await runtime.publish_snapshot()
    assert await runtime.purge_decision_log() == 1  # DECISION_LOG_RETENTION_DAYS: 90
    assert set(await RecommendationEvent.all().values_list("event_id", flat=True)) == set(recent)


async def test_no_retention_keeps_everything(app, catalog, settings):
    assert retention.cutoff_for(0) is None
    runtime = app.state.recommender
    user = await User.create(clerk_id="user_forever")
    await _decisions(runtime, user, 2, days_ago=10_000, rewarded=False)
    kept = runtime.settings
    runtime.settings = runtime.role.settings = settings.model_copy(
        update={"decision_log_retention_days": 0}
    )
    try:
        assert await runtime.purge_decision_log() == 0
    finally:
        runtime.settings = runtime.role.settings = kept
    assert await RecommendationEvent.all().count() == 2


async def test_export_before_archives_what_the_purge_will_delete(app, catalog, tmp_path):
    runtime = app.state.recommender
    user = await User.create(clerk_id="user_archive")
    old = await _decisions(runtime, user, 6, days_ago=100, rewarded=True)
    recent = await _decisions(runtime, user, 4, days_ago=1, rewarded=True)
    await runtime.close_windows(older_than=0)
    cutoff = retention.cutoff_for(90)

    archive = io.StringIO()
    summary = await export_log(archive, before=cutoff)
    assert (summary.decisions, summary.lines, summary.skipped) == (6, 18, 0)
    exported = {
        json.loads(line)["event_id"].split(":")[0] for line in archive.getvalue().splitlines()
    }
    assert exported == set(old)

    await runtime.learn_pending()
    await runtime.publish_snapshot()
    assert await runtime.purge_decision_log() == 6
    retained = io.StringIO()
    assert (await export_log(retained)).decisions == len(recent)
    # The evaluator works on what is retained (and on the archive).
    for name, text in (("retained", retained.getvalue()), ("archive", archive.getvalue())):
        path = tmp_path / f"{name}.jsonl"
        path.write_text(text)
        report = evaluate_file(path, "shopgraph", train_fraction=0.5)
        assert report.policy("logging") is not None


async def test_the_commands_archive_then_purge(app, catalog, settings, tmp_path):
    runtime = app.state.recommender
    user = await User.create(clerk_id="user_commands")
    old = await _decisions(runtime, user, 3, days_ago=100, rewarded=True)
    await _decisions(runtime, user, 2, days_ago=1, rewarded=True)
    await runtime.close_windows(older_than=0)
    await runtime.learn_pending()
    await runtime.publish_snapshot()
    env = {
        **os.environ, "ENV": "test", "DATA_DIR": str(settings.data_dir),
        "DATABASE_URL": settings.database_url,
    }  # fmt: skip
    before = (NOW - timedelta(days=90)).date().isoformat()
    archive = tmp_path / "archive.jsonl"

    def shop(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "cli.main", "bandit", *args], cwd=ROOT, env=env,
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    done = shop("export-log", "--before", before, "-o", str(archive))
    assert done.returncode == 0, done.stderr[-2000:]
    assert {
        json.loads(line)["event_id"].split(":")[0] for line in archive.read_text().splitlines()
    } == (set(old))
    done = shop("purge-log", "--before", before)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "purged 3 decisions" in done.stderr
    assert await RecommendationEvent.all().count() == 2
    bad = shop("export-log", "--before", "last tuesday")
    assert bad.returncode == 2 and "not an ISO 8601 date" in bad.stderr
