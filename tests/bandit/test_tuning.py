"""bandit.tuning: time split, counterfactual comparison and the promotion rule."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from bandit.features import ActionFeatures, ContextFeatures
from bandit.learner import LearnerConfig
from bandit.logs import LoggedDecision
from bandit.tuning import (
    Candidate,
    candidate_configs,
    format_result,
    has_lrq,
    time_split,
    tune,
)

CATEGORIES = ("shoes", "bags", "hats", "coats", "belts")
PRODUCTS = tuple(
    ActionFeatures(f"p{i}", CATEGORIES[i % 5], f"brand{i % 3}", 10.0 + i) for i in range(20)
)
USERS = 30
# Nothing in the context but the shopper id: the match features are empty, so without a
# shopper x product cross a model can only learn which products are popular overall.
BLIND = LearnerConfig(interactions=("MN",), bits=18)
PERSONAL = dataclasses.replace(BLIND, interactions=("WK",))


def uniform_log(n: int, seed: int, *, personal: bool) -> list[LoggedDecision]:
    """Decisions logged by a uniform policy. With `personal`, shopper u likes category
    u % 5 (click 0.7, else 0.05); without, every product is clicked 20% of the time."""
    rng = np.random.default_rng(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    records = []
    for i in range(n):
        user = int(rng.integers(USERS))
        chosen = PRODUCTS[int(rng.integers(len(PRODUCTS)))]
        liked = chosen.category == CATEGORIES[user % 5]
        p = (0.7 if liked else 0.05) if personal else 0.2
        records.append(
            LoggedDecision(
                event_id=f"e{i}",
                time=start + timedelta(seconds=i),
                context=ContextFeatures(user_id=f"u{user}"),
                candidates=PRODUCTS,
                chosen_id=chosen.action_id,
                slot=0,
                probability=1 / len(PRODUCTS),
                reward=float(rng.random() < p),
            )
        )
    return records


def test_a_clearly_better_configuration_is_promoted() -> None:
    records = uniform_log(3000, seed=1, personal=True)
    result = tune(
        records,
        BLIND,
        [
            Candidate("personal", PERSONAL),
            Candidate("fast", dataclasses.replace(BLIND, learning_rate=2.0)),
        ],
    )
    assert result.promoted is not None and result.promoted.name == "personal"
    assert result.promoted.config == PERSONAL
    bound = result.promoted.lower_bound("SNIPS", result.z)
    assert bound > result.current.value("SNIPS")
    # The true values: personal ~0.7 with a little exploration, blind ~0.19.
    assert result.promoted.value("SNIPS") > 0.5
    assert result.current.value("SNIPS") < 0.35
    assert (result.n_train, result.n_evaluated) == (2100, 900)
    evidence = result.evidence()
    assert evidence["promoted"] == "personal"
    assert list(evidence["current"]["config"]["interactions"]) == ["MN"]
    assert {c["name"] for c in evidence["candidates"]} == {"personal", "fast"}
    assert "promote" in format_result(result)


def test_nothing_is_promoted_when_no_configuration_is_better() -> None:
    records = uniform_log(3000, seed=2, personal=False)
    result = tune(
        records,
        BLIND,
        [
            Candidate("personal", PERSONAL),
            Candidate("fast", dataclasses.replace(BLIND, learning_rate=2.0)),
            Candidate("epsilon", dataclasses.replace(BLIND, explorer="epsilon", epsilon=0.2)),
        ],
    )
    assert result.promoted is None, format_result(result)
    assert "no candidate" in result.reason
    for candidate in result.candidates:
        assert candidate.lower_bound("SNIPS", result.z) <= result.current.value("SNIPS")


def test_too_few_held_out_records_promote_nothing() -> None:
    records = uniform_log(300, seed=1, personal=True)
    result = tune(records, BLIND, [Candidate("personal", PERSONAL)], min_evaluated=200)
    assert result.promoted is None
    assert "held-out records" in result.reason


def test_the_bound_is_corrected_for_the_number_of_candidates() -> None:
    records = uniform_log(600, seed=3, personal=True)
    one = tune(records, BLIND, [Candidate("personal", PERSONAL)], min_evaluated=1)
    many = tune(
        records,
        BLIND,
        [
            Candidate(f"rate{r}", dataclasses.replace(PERSONAL, learning_rate=r))
            for r in (0.3, 0.5, 0.7, 1.0)
        ],
        min_evaluated=1,
    )
    assert many.z > one.z > 1.6


def test_time_split_trains_on_the_earlier_records() -> None:
    records = uniform_log(100, seed=4, personal=True)
    train, held_out = time_split(list(reversed(records)), 0.7)
    assert len(train) == 70 and len(held_out) == 30
    assert max(r.time for r in train) < min(r.time for r in held_out)
    with pytest.raises(ValueError):
        time_split(records, 1.0)


def test_candidates_vary_one_setting_and_toggle_low_rank() -> None:
    current = LearnerConfig()
    candidates = candidate_configs(current)
    names = {c.name for c in candidates}
    assert {"lrq=on", "learning-rate=0.1", "squarecb-gamma=10", "epsilon=0.2"} <= names
    assert all(c.config != current for c in candidates)
    assert any(has_lrq(c.config) for c in candidates)
    lrq = next(c.config for c in candidates if c.name == "lrq=on")
    assert "lrq=off" in {c.name for c in candidate_configs(lrq)}
    # Every candidate is a configuration VW accepts.
    from bandit.learner import BanditLearner

    for candidate in candidates:
        BanditLearner(dataclasses.replace(candidate.config, bits=16)).close()


def test_unknown_estimator_is_refused() -> None:
    with pytest.raises(ValueError, match="estimator"):
        tune(uniform_log(50, seed=5, personal=True), BLIND, [], estimator="MAGIC")  # type: ignore[arg-type]
