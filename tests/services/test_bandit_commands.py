"""`shop bandit export-log / evaluate / simulate` on small data."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from bandit.evaluation import evaluate_file, format_report
from models import User
from models.interaction import InteractionAction
from services import cart
from services.auth import Viewer
from services.recommendations import decide, feedback
from services.recommendations.export import export_log
from services.recommendations.request import RecommendationRequest
from services.recommendations.rewards import RewardTable

ROOT = Path(__file__).resolve().parents[2]


async def test_export_log_writes_one_line_per_shown_slot_with_summed_rewards(
    app, catalog, tmp_path
):
    runtime = app.state.recommender
    user = await User.create(clerk_id="user_export")
    viewer = Viewer(user=user)
    for i in range(30):
        request = RecommendationRequest(k=3, page="home" if i % 2 else "product")
        decision, products = await decide.recommendations(runtime, viewer, request)
        if i % 3 >= 1:
            await feedback.record_interaction(
                rewards=RewardTable(), runtime=runtime, product_id=products[0].id,
                action=InteractionAction.TICK, user_id=user.id, session_id=None,
                event_id=decision.event_id,
            )  # fmt: skip
        if i % 3 == 2:  # the server witnesses a cart add from the slate
            target = await feedback.reward_target(
                runtime, event_id=decision.event_id, product_id=products[0].id,
                user_id=user.id, session_id=None,
            )  # fmt: skip
            # One unit at a time: the model may put one low-stock product on top each time.
            await cart.clear_cart(user_id=user.id, currency="USD")
            await cart.add_to_cart(
                user_id=user.id, product_id=products[0].id, quantity=1, rewards=RewardTable(),
                currency="USD", recommendation=target,
            )  # fmt: skip
    await runtime.decisions.flush()
    buffer = io.StringIO()
    assert (await export_log(buffer)).lines == 0  # windows still open: nothing final to export
    await runtime.close_windows(older_than=0)
    buffer = io.StringIO()
    assert (await export_log(buffer)).lines == 90
    rows = [json.loads(line) for line in buffer.getvalue().splitlines()]
    top = [r for r in rows if r["slot"] == 0]
    assert sorted({r["reward"] for r in top}) == [0.0, 1.0, 3.0]  # none, tick, tick + cart
    assert all(r["reward"] == 0.0 for r in rows if r["slot"] > 0)
    first, second = rows[0], rows[1]
    assert len(second["candidates"]) == len(first["candidates"]) - 1  # slot 1 excludes slot 0
    assert 0 < first["probability"] <= 1 and first["context"]["page"] in ("home", "product")

    path = tmp_path / "log.jsonl"
    path.write_text(buffer.getvalue())
    report = evaluate_file(path, "shopgraph", train_fraction=0.5)
    text = format_report(report)
    for name in ("logging", "uniform", "vw"):
        assert report.policy(name) is not None, text


def _shop(tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATA_DIR": str(tmp_path), "ENV": "test"}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "bandit", "simulate", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_simulate_runs_worlds_and_prints_the_table_from_stored_runs(tmp_path):
    runs = str(tmp_path / "runs")
    result = _shop(
        tmp_path, "--world", "own-tickcross,price", "--slates", "60", "--seeds", "2",
        "--policies", "random,plain-vw,oracle,service", "--results", runs,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "| own-tickcross | oracle | CTR" in result.stdout
    assert "| price | oracle | CTR" in result.stdout
    assert "**service**" in result.stdout and "plain-vw" in result.stdout
    stored = sorted(p.relative_to(runs).as_posix() for p in Path(runs).rglob("*.json"))
    assert len(stored) == 2 * 2 * 4 and "price/seed2/service.json" in stored
    # The table is recomputed from the stored runs; nothing runs again.
    again = _shop(
        tmp_path, "--world", "own-tickcross,price", "--slates", "60", "--seeds", "2",
        "--policies", "random,plain-vw,oracle,service", "--results", runs,
    )  # fmt: skip
    assert again.returncode == 0 and "0 of 16 runs to do" in again.stdout
    table = _shop(tmp_path, "--world", "price", "--seeds", "2", "--slates", "60",
                  "--results", runs, "--table-only")  # fmt: skip
    assert table.returncode == 0 and "| price | oracle |" in table.stdout


def test_simulate_refuses_unknown_worlds_and_policies(tmp_path):
    unknown = _shop(tmp_path, "--world", "atlantis")
    assert unknown.returncode == 2 and "unknown world atlantis" in unknown.stderr
    policy = _shop(tmp_path, "--world", "own-silent", "--policies", "random,magic")
    assert policy.returncode == 2 and "unknown policy magic" in policy.stderr
    listing = _shop(tmp_path, "--list")
    assert listing.returncode == 0 and "groups-tickcross" in listing.stdout
