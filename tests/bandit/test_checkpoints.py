"""Checkpoints: atomic save, exact restore and replay, corrupt files ignored."""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bandit.features import ActionFeatures, ContextFeatures
from bandit.learner import BanditLearner, LearnerConfig
from bandit.slates import LearnExample

CONFIG = LearnerConfig(bits=18, explorer="squarecb")  # squarecb also saves its counter


def logged_examples(catalog: list[ActionFeatures], n: int) -> list[LearnExample]:
    """A uniform-random log: context i%3 likes product (2*i%3), sequences 1..n."""
    rng = np.random.default_rng(7)
    contexts = [
        ContextFeatures(user_id=f"u{u}", preferences={"categories": [c]})
        for u, c in enumerate(("shoes", "bags", "hats"))
    ]
    examples = []
    for i in range(n):
        user = i % 3
        chosen = catalog[int(rng.integers(len(catalog)))]
        reward = 1.0 if chosen.action_id == f"p{2 * user}" else float(rng.random() < 0.1)
        examples.append(
            LearnExample(
                contexts[user], catalog, chosen.action_id, 1 / len(catalog), reward, i % 3, i + 1
            )
        )
    return examples


def snapshot(learner: BanditLearner, catalog, contexts) -> list[np.ndarray]:
    return [learner.action_probabilities(c, catalog) for c in contexts] + [
        np.array([item.score for item in learner.rank(c, catalog, 4, seed=3).items])
        for c in contexts
    ]


def test_save_and_load_round_trip(tmp_path: Path, catalog) -> None:
    log = logged_examples(catalog, 90)
    learner = BanditLearner(CONFIG)
    learner.learn_many(log)
    checkpoint = learner.save(tmp_path)
    restored = BanditLearner.load_latest(tmp_path)
    assert restored is not None
    assert restored.model_version == learner.model_version == checkpoint.metadata.model_version
    assert (restored.updates, restored.last_sequence) == (90, 90)
    assert restored.config == CONFIG
    contexts = [e.context for e in log[:3]]
    for before, after in zip(
        snapshot(learner, catalog, contexts), snapshot(restored, catalog, contexts), strict=True
    ):
        np.testing.assert_allclose(after, before, rtol=0, atol=1e-7)
    meta = json.loads(checkpoint.metadata_path.read_text())
    assert meta["updates"] == 90 and meta["last_sequence"] == 90 and "--squarecb" in meta["vw_args"]


def test_replay_after_checkpoint_is_exact(tmp_path: Path, catalog) -> None:
    log = logged_examples(catalog, 300)
    contexts = [e.context for e in log[:3]]
    uninterrupted = BanditLearner(CONFIG)
    uninterrupted.learn_many(log[:120])
    uninterrupted.save(tmp_path)
    uninterrupted.learn_many(log[120:])

    restarted = BanditLearner.load_latest(tmp_path)
    assert restarted is not None and restarted.last_sequence == 120
    # The caller may simply replay the whole log: already-learned sequences are skipped.
    assert restarted.learn_many(log) == 180
    assert restarted.learn_many(log) == 0
    assert restarted.model_version == uninterrupted.model_version
    expected = snapshot(uninterrupted, catalog, contexts)
    for want, got in zip(expected, snapshot(restarted, catalog, contexts), strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-7)

    # The comparison is sensitive: learning 20 examples twice changes the model.
    doubled = BanditLearner.load_latest(tmp_path)
    assert doubled is not None
    doubled.learn_many(replace(e, sequence=None) for e in log[100:])
    got = snapshot(doubled, catalog, contexts)
    assert any(np.abs(g - w).max() > 1e-4 for g, w in zip(got, expected, strict=True))


def _two_checkpoints(tmp_path: Path, catalog) -> tuple[BanditLearner, list]:
    learner = BanditLearner(CONFIG)
    log = logged_examples(catalog, 40)
    learner.learn_many(log[:20])
    older = learner.save(tmp_path)
    learner.learn_many(log[20:])
    newer = learner.save(tmp_path)
    return learner, [older, newer]


def test_corrupt_model_falls_back_to_previous_checkpoint(tmp_path, catalog, caplog) -> None:
    _, (older, newer) = _two_checkpoints(tmp_path, catalog)
    data = bytearray(newer.model_path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    newer.model_path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="bandit.checkpoints"):
        restored = BanditLearner.load_latest(tmp_path)
    assert restored is not None and restored.updates == older.metadata.updates == 20
    assert "checksum" in caplog.text


@pytest.mark.parametrize("damage", ["truncate_json", "delete_model", "truncate_model"])
def test_partial_checkpoints_are_ignored(tmp_path, catalog, caplog, damage: str) -> None:
    _, (older, newer) = _two_checkpoints(tmp_path, catalog)
    if damage == "truncate_json":
        newer.metadata_path.write_text(newer.metadata_path.read_text()[:40])
    elif damage == "delete_model":
        newer.model_path.unlink()
    else:
        newer.model_path.write_bytes(newer.model_path.read_bytes()[:100])
    (tmp_path / "bandit-999999999999-1.json").write_text("not json")
    (tmp_path / ".tmp-bandit-000000000050-1.vw").write_bytes(b"half a model")
    with caplog.at_level(logging.WARNING, logger="bandit.checkpoints"):
        restored = BanditLearner.load_latest(tmp_path)
    assert restored is not None and restored.updates == older.metadata.updates
    assert "ignoring checkpoint" in caplog.text


def test_no_checkpoint_gives_none(tmp_path: Path) -> None:
    assert BanditLearner.load_latest(tmp_path) is None
    assert BanditLearner.load_latest(tmp_path / "missing") is None


def test_only_the_newest_checkpoints_are_kept(tmp_path: Path, catalog) -> None:
    learner = BanditLearner(CONFIG)
    for example in logged_examples(catalog, 5):
        learner.learn(example)
        learner.save(tmp_path, keep=2)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 4  # two models + two metadata files
    assert all(
        "00000000000" in n and n.split("-")[1] in ("000000000004", "000000000005") for n in names
    )


def test_stale_temporary_files_are_cleaned_up(tmp_path: Path, catalog) -> None:
    stale, fresh = tmp_path / ".tmp-crashed.vw", tmp_path / ".tmp-in-progress.vw"
    for leftover in (stale, fresh):
        leftover.write_bytes(b"partial")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    BanditLearner(CONFIG).save(tmp_path)
    assert not stale.exists() and fresh.exists()
