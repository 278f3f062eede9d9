"""evaluate_file / format_report for the logging, uniform and trained VW policies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from bandit.evaluation import evaluate_file, evaluate_records, format_report
from bandit.features import ActionFeatures, ContextFeatures
from bandit.logs import LoggedDecision, write_shopgraph_log
from tests.bandit.obd_fixture import write_obd_fixture

CATEGORIES = ("shoes", "bags", "hats", "coats")
PRODUCTS = tuple(
    ActionFeatures(f"p{i}", CATEGORIES[i % 4], f"brand{i % 3}", 10.0 + 7 * i) for i in range(8)
)


def uniform_log(n: int, seed: int) -> list[LoggedDecision]:
    """Uniformly logged slates where a product in the shopper's favourite category is
    ticked half of the time and anything else 5% of the time."""
    rng = np.random.default_rng(seed)
    records = []
    for i in range(n):
        favourite = CATEGORIES[int(rng.integers(4))]
        chosen = PRODUCTS[int(rng.integers(len(PRODUCTS)))]
        hit = rng.random() < (0.5 if chosen.category == favourite else 0.05)
        records.append(
            LoggedDecision(
                event_id=f"e{i}",
                time=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=i),
                context=ContextFeatures(
                    user_id=f"u{i % 50}", preferences={"favourite_categories": [favourite]}
                ),
                candidates=PRODUCTS,
                chosen_id=chosen.action_id,
                slot=0,
                probability=1 / len(PRODUCTS),
                reward=float(hit),
                sequence=i,
            )
        )
    return records


def test_report_ranks_the_trained_policy_above_uniform(tmp_path: Path) -> None:
    path = tmp_path / "decisions.jsonl"
    write_shopgraph_log(path, reversed(uniform_log(2000, seed=0)))  # sorted by time inside
    report = evaluate_file(path, "shopgraph")
    assert (report.n_records, report.n_train, report.n_evaluated) == (2000, 1400, 600)
    assert [p.policy for p in report.policies] == ["logging", "uniform", "vw"]
    truth_uniform = (0.5 * 2 + 0.05 * 6) / 8  # two of eight products match a favourite
    logging = report.policy("logging").estimate("on-policy")
    uniform = report.policy("uniform")
    assert logging.covers(truth_uniform)
    assert uniform.estimate("IPS").value == pytest.approx(logging.value)
    vw = report.policy("vw")
    for name in ("IPS", "SNIPS", "DR"):
        assert vw.estimate(name).ci_low > uniform.estimate(name).ci_high, name
        assert vw.estimate(name).value > 0.35  # close to 0.5 minus exploration
    text = format_report(report)
    assert "vw" in text and "SNIPS" in text and "decisions.jsonl" in text


def test_untrained_report_and_argument_checks() -> None:
    records = uniform_log(300, seed=1)
    report = evaluate_records(records, train_fraction=0.0)
    assert [p.policy for p in report.policies] == ["logging", "uniform"]
    assert report.n_evaluated == 300
    with pytest.raises(ValueError):
        evaluate_records(records, train_fraction=1.0)


def test_obd_file_evaluation(tmp_path: Path) -> None:
    write_obd_fixture(
        tmp_path, n=800, propensity=[[0.25] * 4, [0.25] * 4], ctr=[0.05, 0.1, 0.2, 0.3], seed=4
    )
    report = evaluate_file(tmp_path / "log.csv", "obd")
    assert report.n_evaluated == 240
    assert report.policy("uniform").estimate("IPS").value == pytest.approx(
        report.policy("logging").estimate("on-policy").value
    )
    assert report.policy("vw").effective_sample_size > 0
    with pytest.raises(ValueError, match="unknown log format"):
        evaluate_file(tmp_path / "log.csv", "csv")  # type: ignore[arg-type]
