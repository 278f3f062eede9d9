"""The value of one target policy on a log: IPS / SNIPS / DR plus their reward model.

DR's reward model is a per-(action, slot) mean reward shrunk towards the slot mean (and
that towards the global mean) with `prior_strength` pseudo-records, fitted with 2-fold
cross-fitting (each record's prediction comes from the fold it is not in) so the DR
correction term is not fitted on its own noise.

Variance floor. The same kind of model of E[r^2 | action, slot] gives a model-based
variance for each estimator (e.g. IPS: mean(w^2 E[r^2|a]) - V^2). The reported standard
error is the larger of the empirical and the model-based one. This matters for rare
rewards: a policy that puts weight 30 on items that happened to get no click in the
evaluation window has an empirical variance near zero and would otherwise be reported
as confidently bad.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bandit.estimators import (
    Estimate,
    doubly_robust,
    effective_sample_size,
    ips,
    on_policy,
    snips,
)
from bandit.logs import LoggedDecision
from bandit.policies import EvaluationPolicy


@dataclass(frozen=True)
class PolicyEstimates:
    """All estimates of one policy's value on the evaluated records."""

    policy: str
    estimates: tuple[Estimate, ...]
    effective_sample_size: float
    max_weight: float
    rewarded_records: int

    @property
    def reliable_interval(self) -> bool:
        """False when fewer than 10 rewarded records carry weight: with rare clicks the
        normal-approximation interval is then far too narrow (it only sees the few
        non-zero terms)."""
        return self.rewarded_records >= 10

    def estimate(self, estimator: str) -> Estimate:
        for estimate in self.estimates:
            if estimate.estimator == estimator:
                return estimate
        raise KeyError(estimator)


def estimate_policy(
    policy: EvaluationPolicy,
    records: Sequence[LoggedDecision],
    *,
    prior_strength: float = 20.0,
    reward_model: RewardPredictions | None = None,
) -> PolicyEstimates:
    """IPS / SNIPS / DR estimates of `policy` on `records` (on-policy mean for the logger)."""
    rewards = np.array([r.reward for r in records])
    distributions = [policy.distribution(r) for r in records]
    if any(d is None for d in distributions):
        rewarded = int(np.count_nonzero(rewards))
        return PolicyEstimates(
            policy.name, (on_policy(rewards),), float(len(records)), 1.0, rewarded
        )
    chosen = [r.chosen_index for r in records]
    pi = np.array([d[i] for d, i in zip(distributions, chosen, strict=True)])
    weights = pi / np.array([r.probability for r in records])
    if reward_model is None:
        reward_model = cross_fitted_reward_model(records, prior_strength=prior_strength)
    qhat, second = reward_model.mean, reward_model.logged_second_moment
    direct = np.array([float(d @ q) for d, q in zip(distributions, qhat, strict=True)])
    baseline = np.array([q[i] for q, i in zip(qhat, chosen, strict=True)])
    n = len(records)
    snips_value = float(np.sum(weights * rewards) / np.sum(weights)) if weights.sum() else 0.0
    floors = {
        "ips": np.mean(weights**2 * second) - float(np.mean(weights * baseline)) ** 2,
        "snips": np.mean(weights**2 * (second - 2 * snips_value * baseline + snips_value**2))
        / max(float(np.mean(weights)), 1e-12) ** 2,
        "dr": np.mean(weights**2 * np.maximum(second - baseline**2, 0.0)),
    }
    floor = {k: float(np.sqrt(max(v, 0.0) / n)) for k, v in floors.items()}
    return PolicyEstimates(
        policy=policy.name,
        estimates=(
            ips(rewards, weights, min_std_error=floor["ips"]),
            snips(rewards, weights, min_std_error=floor["snips"]),
            doubly_robust(rewards, weights, direct, baseline, min_std_error=floor["dr"]),
        ),
        effective_sample_size=effective_sample_size(weights),
        max_weight=float(weights.max()),
        rewarded_records=int(np.count_nonzero(weights * rewards)),
    )


@dataclass(frozen=True)
class RewardPredictions:
    """Cross-fitted reward model output for a list of records."""

    mean: list[np.ndarray]  # qhat(x, a) for every candidate of every record
    logged_second_moment: np.ndarray  # E[r^2 | x, logged a] per record


def cross_fitted_reward_model(
    records: Sequence[LoggedDecision], *, prior_strength: float = 20.0, folds: int = 2
) -> RewardPredictions:
    """Reward predictions for every record from the other folds' data (see module docs)."""
    fold_of = np.arange(len(records)) % folds
    means: list[np.ndarray] = [np.empty(0)] * len(records)
    second = np.zeros(len(records))
    for fold in range(folds):
        fit = [r for r, f in zip(records, fold_of, strict=True) if f != fold]
        mean_model = _ShrunkMeanRewards(fit, prior_strength, power=1)
        square_model = _ShrunkMeanRewards(fit, prior_strength, power=2)
        for index in np.flatnonzero(fold_of == fold):
            record = records[index]
            means[index] = mean_model.predict(record)
            second[index] = square_model.predict(record)[record.chosen_index]
    return RewardPredictions(means, second)


class _ShrunkMeanRewards:
    """Mean of reward**power per (action, slot), shrunk to the slot mean, then global mean."""

    def __init__(
        self, records: Sequence[LoggedDecision], prior_strength: float, power: int
    ) -> None:
        self._m = prior_strength
        rewards = [r.reward**power for r in records]
        self._global = float(np.mean(rewards)) if rewards else 0.0
        slot_sums: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
        pair_sums: dict[tuple, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for record, reward in zip(records, rewards, strict=True):
            for table, key in (
                (slot_sums, record.slot),
                (pair_sums, (record.chosen_id, record.slot)),
            ):
                table[key][0] += reward
                table[key][1] += 1
        self._slot = {s: self._shrink(v, self._global) for s, v in slot_sums.items()}
        self._pairs = {k: v for k, v in pair_sums.items()}

    def _shrink(self, sums: list[float], prior: float) -> float:
        return (sums[0] + self._m * prior) / (sums[1] + self._m)

    def predict(self, record: LoggedDecision) -> np.ndarray:
        slot_mean = self._slot.get(record.slot, self._global)
        out = np.empty(len(record.candidates))
        for i, candidate in enumerate(record.candidates):
            sums = self._pairs.get((candidate.action_id, record.slot))
            out[i] = self._shrink(sums, slot_mean) if sums else slot_mean
        return out
