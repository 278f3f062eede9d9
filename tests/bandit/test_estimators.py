"""IPS / SNIPS / DR on synthetic logs whose true policy value is known."""

from __future__ import annotations

import numpy as np
import pytest

from bandit.estimators import Estimate, effective_sample_size, ips, on_policy, snips
from bandit.features import ActionFeatures, ContextFeatures
from bandit.logs import LoggedDecision
from bandit.policies import LoggingPolicy, SlotMarginalPolicy, UniformPolicy
from bandit.policy_value import estimate_policy

CTR = np.array([0.30, 0.10, 0.05, 0.20, 0.15])
LOGGING = np.array([0.50, 0.25, 0.12, 0.08, 0.05])  # skewed away from the best arm
TRUE_UNIFORM_VALUE = float(CTR.mean())


def draw(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    actions = rng.choice(len(CTR), size=n, p=LOGGING)
    rewards = (rng.random(n) < CTR[actions]).astype(float)
    return actions, rewards


def test_ips_and_snips_are_unbiased_with_calibrated_intervals() -> None:
    rng = np.random.default_rng(0)
    values = {"IPS": [], "SNIPS": []}
    covered = {"IPS": 0, "SNIPS": 0}
    reps = 400
    for _ in range(reps):
        actions, rewards = draw(rng, 2000)
        weights = (1 / len(CTR)) / LOGGING[actions]
        for estimate in (ips(rewards, weights), snips(rewards, weights)):
            values[estimate.estimator].append(estimate.value)
            covered[estimate.estimator] += estimate.covers(TRUE_UNIFORM_VALUE)
    for name in ("IPS", "SNIPS"):
        spread = np.std(values[name]) / np.sqrt(reps)
        assert abs(np.mean(values[name]) - TRUE_UNIFORM_VALUE) < 4 * spread
        assert 0.90 <= covered[name] / reps <= 0.99  # nominal 95%


def test_estimates_are_far_from_the_logging_value() -> None:
    # Guards against an estimator that ignores the weights: the logging policy's value
    # (0.2) differs clearly from the uniform target's (0.16).
    rng = np.random.default_rng(1)
    actions, rewards = draw(rng, 20_000)
    weights = (1 / len(CTR)) / LOGGING[actions]
    logging_value = on_policy(rewards)
    assert logging_value.value == pytest.approx(float(LOGGING @ CTR), abs=0.01)
    estimate = ips(rewards, weights)
    assert abs(estimate.value - TRUE_UNIFORM_VALUE) < 4 * estimate.std_error
    assert abs(estimate.value - logging_value.value) > 8 * estimate.std_error


def test_interval_arithmetic_and_ess() -> None:
    estimate = Estimate("IPS", 0.5, 0.1, 100)
    assert estimate.ci_low == pytest.approx(0.5 - 0.196, abs=1e-3)
    assert estimate.covers(0.6) and not estimate.covers(0.8)
    assert effective_sample_size(np.ones(50)) == pytest.approx(50)
    assert effective_sample_size(np.array([10.0, 0, 0, 0])) == pytest.approx(1)


def make_records(rng: np.random.Generator, n: int) -> list[LoggedDecision]:
    items = tuple(ActionFeatures(action_id=i) for i in range(len(CTR)))
    actions, rewards = draw(rng, n)
    return [
        LoggedDecision(
            event_id=str(i),
            time=None,
            context=ContextFeatures(),
            candidates=items,
            chosen_id=int(a),
            slot=0,
            probability=float(LOGGING[a]),
            reward=float(r),
        )
        for i, (a, r) in enumerate(zip(actions, rewards, strict=True))
    ]


def test_estimate_policy_end_to_end_covers_the_truth() -> None:
    records = make_records(np.random.default_rng(2), 4000)
    uniform = estimate_policy(UniformPolicy(), records)
    for estimate in uniform.estimates:
        assert estimate.covers(TRUE_UNIFORM_VALUE), estimate
    # The log's own action frequencies reproduce the logging policy: weights ~ 1.
    logger_again = estimate_policy(SlotMarginalPolicy(records), records)
    assert logger_again.estimate("DR").covers(float(LOGGING @ CTR))
    assert logger_again.effective_sample_size > 0.95 * len(records)
    logging = estimate_policy(LoggingPolicy(), records)
    assert [e.estimator for e in logging.estimates] == ["on-policy"]


def test_rare_rewards_do_not_give_falsely_narrow_intervals() -> None:
    # A target that puts all its mass on arm 4 (logged 5% of the time). With CTRs of
    # 0.5% few of its records carry a click, the empirical variance of w*r is tiny when
    # none do, and the model-based floor must keep the interval honest.
    rare = np.array([0.005] * 5)
    rng = np.random.default_rng(3)
    items = tuple(ActionFeatures(action_id=i) for i in range(5))

    class AlwaysFour:
        name = "always-4"

        def distribution(self, record):
            return np.array([0.0, 0.0, 0.0, 0.0, 1.0])

    covered = 0
    for rep in range(60):
        actions = rng.choice(5, size=1500, p=LOGGING)
        rewards = (rng.random(1500) < rare[actions]).astype(float)
        records = [
            LoggedDecision(str(i), None, ContextFeatures(), items, int(a), 0, float(LOGGING[a]), r)
            for i, (a, r) in enumerate(zip(actions, rewards, strict=True))
        ]
        estimate = estimate_policy(AlwaysFour(), records).estimate("IPS")
        covered += estimate.covers(0.005)
        del rep
    assert covered / 60 >= 0.9
