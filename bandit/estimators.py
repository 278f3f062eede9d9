"""Off-policy value estimators with 95% confidence intervals.

Notation per logged record i: reward r_i, logged probability p_i of the logged action,
target-policy probability pi_i of that same action, weight w_i = pi_i / p_i.

- on-policy: mean(r). The logging policy's own value.
- IPS: mean(w r). Unbiased when p_i > 0 wherever pi puts mass; variance grows with w.
- SNIPS: sum(w r) / sum(w). Slightly biased, far less variance when weights are large.
- DR: mean(qhat(x, pi) + w (r - qhat(x, a))), with qhat a reward model fitted on other
  data (cross-fitting, see `bandit.evaluation`). Unbiased if either qhat or p is right.

Intervals use the normal approximation on the per-record terms (for SNIPS, the delta
method: terms w (r - V) / mean(w)). Callers may impose a floor on the standard error
(`min_std_error`): with clicks at ~0.5%, the few records with large weights often carry
no click at all, and then the empirical variance, which only sees non-zero terms, is far
too small (`bandit.policy_value` derives the floor from a reward model). The effective
sample size (sum w)^2 / sum w^2 says how many uniform-weight records an estimate is worth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

Z_95 = 1.959963984540054


@dataclass(frozen=True)
class Estimate:
    """A policy-value estimate with its 95% normal-approximation interval."""

    estimator: str
    value: float
    std_error: float
    n: int

    @property
    def ci_low(self) -> float:
        return self.value - Z_95 * self.std_error

    @property
    def ci_high(self) -> float:
        return self.value + Z_95 * self.std_error

    def covers(self, value: float) -> bool:
        """Whether `value` lies inside the 95% interval."""
        return self.ci_low <= value <= self.ci_high


def _mean_estimate(name: str, terms: np.ndarray, min_std_error: float = 0.0) -> Estimate:
    n = int(terms.size)
    if n == 0:
        return Estimate(name, math.nan, math.nan, 0)
    std = float(terms.std(ddof=1)) if n > 1 else math.inf
    return Estimate(name, float(terms.mean()), max(std / math.sqrt(n), min_std_error), n)


def on_policy(rewards: np.ndarray) -> Estimate:
    """Mean reward of the logging policy on its own log."""
    return _mean_estimate("on-policy", np.asarray(rewards, float))


def ips(rewards: np.ndarray, weights: np.ndarray, *, min_std_error: float = 0.0) -> Estimate:
    """Inverse propensity scoring."""
    terms = np.asarray(weights, float) * np.asarray(rewards, float)
    return _mean_estimate("IPS", terms, min_std_error)


def snips(rewards: np.ndarray, weights: np.ndarray, *, min_std_error: float = 0.0) -> Estimate:
    """Self-normalised IPS with a delta-method interval."""
    rewards = np.asarray(rewards, float)
    weights = np.asarray(weights, float)
    n = int(rewards.size)
    mean_weight = float(weights.mean()) if n else 0.0
    if n == 0 or mean_weight == 0.0:
        return Estimate("SNIPS", math.nan, math.nan, n)
    value = float((weights * rewards).sum() / weights.sum())
    influence = weights * (rewards - value) / mean_weight
    std = float(influence.std(ddof=1)) if n > 1 else math.inf
    return Estimate("SNIPS", value, max(std / math.sqrt(n), min_std_error), n)


def doubly_robust(
    rewards: np.ndarray,
    weights: np.ndarray,
    direct: np.ndarray,
    baseline: np.ndarray,
    *,
    min_std_error: float = 0.0,
) -> Estimate:
    """DR: `direct` = qhat(x, pi) = sum_a pi(a|x) qhat(x, a); `baseline` = qhat(x, logged a)."""
    terms = np.asarray(direct, float) + np.asarray(weights, float) * (
        np.asarray(rewards, float) - np.asarray(baseline, float)
    )
    return _mean_estimate("DR", terms, min_std_error)


def effective_sample_size(weights: np.ndarray) -> float:
    """(sum w)^2 / sum w^2: how many equally weighted records the weights are worth."""
    weights = np.asarray(weights, float)
    squares = float((weights**2).sum())
    return float(weights.sum() ** 2 / squares) if squares > 0 else 0.0
