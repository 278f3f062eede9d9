"""`shop bandit tune` / `--dry-run` / `--rollback` as an operator runs them, on a SQLite shop
whose decision log was written by simulated shoppers through the service layer."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from dataclasses import asdict, replace
from pathlib import Path

from bandit.learner import LearnerConfig
from bandit.simulation.worlds.runner import run_policy
from bandit.simulation.worlds.spec import WORLDS
from bandit.simulation.worlds.world import World
from services.recommendations import tuning
from services.simulation import ServiceLayer, ServiceShop, simulation_settings

ROOT = Path(__file__).resolve().parents[2]
EXPLORE_ALL = LearnerConfig(explorer="epsilon", epsilon=1.0)
SMALL_SHOP = replace(
    WORLDS["own-silent"], name="tuning", n_products=20, n_categories=5, n_brands=4,
    liked_categories=1, n_shoppers=20,
)  # fmt: skip


def _tune(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATA_DIR": str(data_dir), "ENV": "test", "TUNE_MIN_EVALUATED": "300"}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "bandit", "tune", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def _shop_log(data_dir: str) -> None:
    """A shop that ran `EXPLORE_ALL` for 800 slates of five (in a process of its own, as
    `_in_subprocess` runs it: the service layer sets Tortoise's process-wide state up on
    an event loop of its own, which must not leak into the other tests)."""
    layer = ServiceLayer(simulation_settings(Path(data_dir)))
    runtime = layer.runtime

    async def start() -> None:
        await tuning.switch_to(EXPLORE_ALL, store=runtime.store, catalog=runtime.catalog)
        async with asyncio.timeout(30):
            while not (runtime.is_learner and runtime.model.config == EXPLORE_ALL):
                await asyncio.sleep(0.05)

    layer.call(start())
    world = World(SMALL_SHOP, seed=5, slates=800)
    run_policy(world, ServiceShop(layer, world.shoppers))  # closes the layer, keeps the data


def _newest_config(data_dir: str) -> None:
    layer = ServiceLayer(simulation_settings(Path(data_dir)))
    try:
        print(json.dumps(asdict(layer.call(tuning.current_config(layer.runtime.store)))))
    finally:
        layer.close()


def _in_subprocess(function: str, data_dir: Path) -> str:
    env = {**os.environ, "ENV": "test"}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c",
         f"from tests.cli.test_bandit_tune import {function}; {function}({str(data_dir)!r})"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _config(data_dir: Path) -> LearnerConfig:
    return LearnerConfig.from_dict(
        json.loads(_in_subprocess("_newest_config", data_dir).strip().splitlines()[-1])
    )


def test_tune_dry_run_then_promote_then_roll_back(tmp_path):
    _in_subprocess("_shop_log", tmp_path)
    nothing = _tune(tmp_path, "--rollback")
    assert nothing.returncode == 1 and "nothing to roll back" in nothing.stderr, nothing.stderr

    dry = _tune(tmp_path, "--dry-run")
    assert dry.returncode == 0, dry.stderr[-2000:]
    assert "4000 decision-slots" in dry.stdout and "would promote" in dry.stdout, dry.stdout
    assert _config(tmp_path) == EXPLORE_ALL

    done = _tune(tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "decision: promote" in done.stdout and "recorded as promotion #1" in done.stdout
    promoted = _config(tmp_path)
    assert promoted != EXPLORE_ALL

    undone = _tune(tmp_path, "--rollback")
    assert undone.returncode == 0, undone.stderr[-2000:]
    assert "rolled back promotion #1" in undone.stdout
    assert _config(tmp_path) == EXPLORE_ALL
    again = _tune(tmp_path, "--rollback")
    assert again.returncode == 1 and "nothing to roll back" in again.stderr


def test_tune_refuses_bad_options(tmp_path):
    bad = _tune(tmp_path, "--train-fraction", "1.5")
    assert bad.returncode == 2 and "--train-fraction" in bad.stderr
