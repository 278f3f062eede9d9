"""Log readers: shopgraph JSONL round trip and rules, OBD CSV on a fixture written here."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from bandit.features import ActionFeatures, ContextFeatures
from bandit.logs import LoggedDecision, decision_log_line, read_shopgraph_log, write_shopgraph_log
from bandit.obd import cross_check, format_cross_check, read_obd
from tests.bandit.obd_fixture import write_obd_fixture

START = datetime(2024, 5, 1, tzinfo=UTC)


def test_shopgraph_log_round_trip(tmp_path: Path) -> None:
    candidates = (
        ActionFeatures("p1", "shoes", "Acme", Decimal("59.90"), {"style": ["sport"]}, 12, 3.5),
        ActionFeatures(2, "bags", None, None, {}, None, None, ar_enabled=True),
    )
    record = LoggedDecision(
        event_id="slate-1:0",
        time=START,
        context=ContextFeatures(
            user_id="u1",
            timestamp=START,
            device="mobile",
            preferences={"favourite_categories": ["shoes"], "note": "日本 | x:1"},
            recent_categories=("bags",),
            features={"campaign": "spring"},
        ),
        candidates=candidates,
        chosen_id=2,
        slot=0,
        probability=0.93,
        reward=5.0,
        model_version="abc:12",
        sequence=7,
    )
    path = tmp_path / "log.jsonl"
    write_shopgraph_log(path, [record])
    (read,) = read_shopgraph_log(path)
    assert read.context == record.context
    assert read.candidates[0].price == pytest.approx(59.9)
    assert [c.action_id for c in read.candidates] == ["p1", 2]
    assert read.candidates[0] == ActionFeatures(
        "p1", "shoes", "Acme", 59.9, {"style": ["sport"]}, 12, 3.5
    )
    assert (read.chosen_id, read.chosen_index, read.probability, read.reward) == (2, 1, 0.93, 5.0)
    assert (read.sequence, read.model_version, read.time) == (7, "abc:12", START)
    assert read.to_learn_example().candidates == read.candidates


def _line(**overrides) -> str:
    row = json.loads(
        decision_log_line(
            event_id="e",
            context=ContextFeatures(),
            candidates=[ActionFeatures("a"), ActionFeatures("b")],
            chosen="a",
            slot=1,
            probability=0.5,
            reward=None,
            model_version=None,
        )
    )
    row.update(overrides)
    return json.dumps(row)


def test_missing_rewards_count_as_zero_or_can_be_skipped(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text(_line() + "\n\n" + _line(reward=2.0, event_id="f") + "\n")
    records = read_shopgraph_log(path)
    assert [r.reward for r in records] == [0.0, 2.0]
    assert [r.event_id for r in read_shopgraph_log(path, missing_reward="skip")] == ["f"]


@pytest.mark.parametrize(
    "bad",
    [
        "not json",
        _line(chosen="zzz"),
        _line(probability=0),
        _line(probability=1.5),
        _line(candidates=[]),
    ],
)
def test_malformed_lines_are_reported_with_their_line_number(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text(_line() + "\n" + bad + "\n")
    with pytest.raises(ValueError, match=r"log.jsonl:2"):
        read_shopgraph_log(path)


def test_obd_reader_builds_per_position_decisions(tmp_path: Path) -> None:
    uniform = [[0.25] * 4, [0.25] * 4]
    write_obd_fixture(tmp_path, n=50, propensity=uniform, ctr=[0.1] * 4, seed=0)
    records = read_obd(tmp_path / "log.csv")
    assert len(records) == 50
    first = records[0]
    assert [c.action_id for c in first.candidates] == [0, 1, 2, 3]
    assert first.candidates[1].features["f1"] == "h1"
    assert first.slot in (0, 1) and first.probability == 0.25
    assert first.context.features["u0"] == "a"
    assert all(r.time is not None and r.time.tzinfo is not None for r in records)
    with_affinity = [r for r in records if r.chosen_id == 2]
    assert with_affinity and with_affinity[0].context.features["affinity"] == {"2": 3.0}


def test_cross_check_recovers_both_policies_values(tmp_path: Path) -> None:
    ctr = [0.02, 0.05, 0.10, 0.20]
    uniform = [[0.25] * 4, [0.25] * 4]
    skewed = [[0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]]  # depends on the position
    write_obd_fixture(tmp_path / "random", n=6000, propensity=uniform, ctr=ctr, seed=1)
    write_obd_fixture(tmp_path / "bts", n=6000, propensity=skewed, ctr=ctr, seed=2)
    checks = cross_check(read_obd(tmp_path / "random/log.csv"), read_obd(tmp_path / "bts/log.csv"))
    truths = {
        "random": float(np.mean(ctr)),
        "bts": float(np.mean([np.dot(p, ctr) for p in skewed])),
    }
    for check in checks:
        assert check.truth.covers(truths[check.target])
        for estimate in check.estimates:
            assert check.relative_error(estimate) < 0.15, (check.target, estimate)
            assert check.consistent(estimate)
    assert "consistent" in format_cross_check(checks)
