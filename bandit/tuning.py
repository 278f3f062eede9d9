"""Self-tuning: choose the learner configuration from the shop's own decision log.

Protocol (the offline optimisation of Azure Personalizer, made conservative):

1. The log is sorted by time and split: the first `train_fraction` trains, the rest
   evaluates. Every configuration -- the current one and each candidate -- is trained
   the same way, by replaying the training part into a fresh `BanditLearner`, so the
   comparison is between configurations, not between a model that saw the evaluation
   period online and one that did not.
2. On the held-out part each trained policy (exploration included, frozen at the split)
   is valued counterfactually with IPS, SNIPS and DR using the *logged* propensities
   (`bandit.policy_value`); one reward model serves every policy.
3. A candidate is promoted only when the lower bound of its one-sided interval beats the
   current configuration's point estimate under the chosen estimator (SNIPS by default:
   bounded by the largest reward, and with many low-propensity candidates its interval is
   usually the tightest of the three), its interval is reliable (>= `min_rewarded`
   rewarded records carry weight) and the held-out part has at least `min_evaluated`
   records. The bound is Bonferroni-corrected for the number of candidates: with ten
   candidates the best of ten noisy estimates is biased upwards, and a plain 95% bound
   would promote a useless configuration far more often than one time in twenty.
   Among the candidates that pass, the one with the highest lower bound wins.

The module is pure: records and configurations in, a `TuningResult` out. Warm-starting
and publishing the promoted model is the caller's job (the learner replays the log).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Any, Literal

from bandit.estimators import on_policy
from bandit.learner import BanditLearner, LearnerConfig
from bandit.logs import LoggedDecision
from bandit.policies import LearnerPolicy
from bandit.policy_value import PolicyEstimates, cross_fitted_reward_model, estimate_policy

Estimator = Literal["IPS", "SNIPS", "DR"]

# Interaction sets tried besides the current one (namespace letters: `bandit.features`).
# "personal" adds what the plain-VW anchor of the world suite learns from -- the shopper
# id and recent interests crossed with the product's kind (WK, UK) -- and per-product
# tastes of each shopper (WI); "wide" crosses every context namespace with the product.
INTERACTION_SETS: dict[str, tuple[str, ...]] = {
    "personal": ("QP", "CP", "WK", "UK", "WI", "MN", "MP"),
    "wide": ("UK", "UP", "WK", "WI", "QP", "QK", "CP", "CK", "MN", "MP"),
    "match-only": ("MN", "MP"),
}
# Low-rank interactions between the shopper id and the product id (rank 8): a
# factorisation that generalises across shoppers with similar histories.
LRQ_ARGS = ("--lrq", "WI8")


@dataclass(frozen=True)
class Candidate:
    """A named learner configuration to try."""

    name: str
    config: LearnerConfig


@dataclass(frozen=True)
class Evaluated:
    """One configuration trained on the training part and valued on the held-out part."""

    name: str
    config: LearnerConfig
    estimates: PolicyEstimates

    def value(self, estimator: Estimator) -> float:
        return self.estimates.estimate(estimator).value

    def lower_bound(self, estimator: Estimator, z: float) -> float:
        estimate = self.estimates.estimate(estimator)
        return estimate.value - z * estimate.std_error

    def upper_bound(self, estimator: Estimator, z: float) -> float:
        estimate = self.estimates.estimate(estimator)
        return estimate.value + z * estimate.std_error


@dataclass(frozen=True)
class TuningResult:
    """Everything the decision rests on, for the record and for the CLI."""

    estimator: Estimator
    z: float
    confidence: float
    n_records: int
    n_train: int
    n_evaluated: int
    logged_value: float
    current: Evaluated
    candidates: tuple[Evaluated, ...]
    promoted: Evaluated | None
    reason: str

    def evidence(self) -> dict[str, Any]:
        """A JSON-able summary: every policy's estimates and intervals, sample sizes."""
        return {
            "estimator": self.estimator,
            "z": self.z,
            "confidence": self.confidence,
            "n_records": self.n_records,
            "n_train": self.n_train,
            "n_evaluated": self.n_evaluated,
            "logged_value": _finite(self.logged_value),
            "current": self._policy(self.current),
            "candidates": [self._policy(c) for c in self.candidates],
            "promoted": None if self.promoted is None else self.promoted.name,
            "reason": self.reason,
        }

    def _policy(self, evaluated: Evaluated) -> dict[str, Any]:
        e = evaluated.estimates
        return {
            "name": evaluated.name,
            "config": asdict(evaluated.config),
            "lower_bound": _finite(evaluated.lower_bound(self.estimator, self.z)),
            "upper_bound": _finite(evaluated.upper_bound(self.estimator, self.z)),
            "effective_sample_size": _finite(e.effective_sample_size),
            "max_weight": _finite(e.max_weight),
            "rewarded_records": e.rewarded_records,
            "estimates": {
                x.estimator: {
                    "value": _finite(x.value),
                    "std_error": _finite(x.std_error),
                    "n": x.n,
                }
                for x in e.estimates
            },
        }


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def candidate_configs(current: LearnerConfig) -> list[Candidate]:
    """The default search space: one change at a time from `current` (interaction set,
    exploration strength, learning rate, low-rank on/off), plus low-rank on the
    "personal" set, which is how the two are meant to be used together."""
    out: list[Candidate] = []
    for name, interactions in INTERACTION_SETS.items():
        if interactions != current.interactions:
            out.append(Candidate(f"interactions={name}", _with(current, interactions=interactions)))
    for scale in (10.0, 100.0, 1000.0):
        if current.explorer != "squarecb" or current.gamma_scale != scale:
            squarecb = _with(current, explorer="squarecb", gamma_scale=scale)
            out.append(Candidate(f"squarecb-gamma={scale:g}", squarecb))
    for epsilon in (0.05, 0.2):
        if current.explorer != "epsilon" or current.epsilon != epsilon:
            greedy = _with(current, explorer="epsilon", epsilon=epsilon)
            out.append(Candidate(f"epsilon={epsilon:g}", greedy))
    for rate in (0.1, 2.0):
        if rate != current.learning_rate:
            out.append(Candidate(f"learning-rate={rate:g}", _with(current, learning_rate=rate)))
    if has_lrq(current):
        plain = tuple(a for a in _strip_lrq(current.extra_args))
        out.append(Candidate("lrq=off", _with(current, extra_args=plain)))
    else:
        out.append(Candidate("lrq=on", with_lrq(current)))
        personal = _with(current, interactions=INTERACTION_SETS["personal"])
        out.append(Candidate("interactions=personal+lrq", with_lrq(personal)))
    return out


def has_lrq(config: LearnerConfig) -> bool:
    return "--lrq" in config.extra_args


def with_lrq(config: LearnerConfig) -> LearnerConfig:
    return _with(config, extra_args=(*_strip_lrq(config.extra_args), *LRQ_ARGS))


def _strip_lrq(args: Sequence[str]) -> list[str]:
    out, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg == "--lrq":
            skip = True
        else:
            out.append(arg)
    return out


def _with(config: LearnerConfig, **changes: Any) -> LearnerConfig:
    return dataclasses.replace(config, **changes)


def time_split(
    records: Sequence[LoggedDecision], train_fraction: float
) -> tuple[list[LoggedDecision], list[LoggedDecision]]:
    """Earlier records train, later ones evaluate (records without a time sort first, in
    their given order; the sort is stable)."""
    if not 0.0 < train_fraction < 1.0:
        raise ValueError("train_fraction must be in (0, 1)")
    ordered = sorted(records, key=lambda r: (r.time is not None, r.time or 0))
    split = int(len(ordered) * train_fraction)
    return ordered[:split], ordered[split:]


def train(config: LearnerConfig, records: Sequence[LoggedDecision]) -> BanditLearner:
    """A fresh learner with `config`, trained by replaying `records` in order.

    Logged sequence numbers are dropped: records are replayed in the given order, and a
    learner would otherwise skip a record whose sequence is not above the last one."""
    learner = BanditLearner(config)
    learner.learn_many(dataclasses.replace(r.to_learn_example(), sequence=None) for r in records)
    return learner


def tune(
    records: Sequence[LoggedDecision],
    current: LearnerConfig,
    candidates: Sequence[Candidate] | None = None,
    *,
    train_fraction: float = 0.7,
    estimator: Estimator = "SNIPS",
    confidence: float = 0.95,
    min_evaluated: int = 200,
    min_rewarded: int = 10,
) -> TuningResult:
    """Evaluate `current` and `candidates` (default: `candidate_configs(current)`) on
    `records` and decide whether one should replace `current` (see module docs)."""
    if estimator not in ("IPS", "SNIPS", "DR"):
        raise ValueError(f"unknown estimator {estimator!r} (IPS, SNIPS or DR)")
    if not 0.5 <= confidence < 1.0:
        raise ValueError("confidence must be in [0.5, 1)")
    candidates = list(candidate_configs(current) if candidates is None else candidates)
    candidates = [c for c in candidates if c.config != current]
    training, held_out = time_split(records, train_fraction)
    # One-sided bound, Bonferroni-corrected over the candidates compared.
    z = NormalDist().inv_cdf(1 - (1 - confidence) / max(len(candidates), 1))
    logged_value = on_policy([r.reward for r in held_out]).value if held_out else math.nan

    def evaluate(name: str, config: LearnerConfig) -> Evaluated:
        learner = train(config, training)
        try:
            estimates = estimate_policy(
                LearnerPolicy(learner, name=name), held_out, reward_model=reward_model
            )
        finally:
            learner.close()
        return Evaluated(name, config, estimates)

    if not held_out or not training:
        raise ValueError(
            f"{len(records)} records are too few to split into training and evaluation"
        )
    reward_model = cross_fitted_reward_model(held_out)
    baseline = evaluate("current", current)
    evaluated = tuple(evaluate(c.name, c.config) for c in candidates)
    promoted, reason = _decide(
        baseline, evaluated, estimator, z, len(held_out), min_evaluated, min_rewarded
    )
    return TuningResult(
        estimator=estimator,
        z=z,
        confidence=confidence,
        n_records=len(records),
        n_train=len(training),
        n_evaluated=len(held_out),
        logged_value=logged_value,
        current=baseline,
        candidates=evaluated,
        promoted=promoted,
        reason=reason,
    )


def _decide(
    baseline: Evaluated,
    evaluated: Sequence[Evaluated],
    estimator: Estimator,
    z: float,
    n_evaluated: int,
    min_evaluated: int,
    min_rewarded: int,
) -> tuple[Evaluated | None, str]:
    if not evaluated:
        return None, "no candidate configuration differs from the current one"
    if n_evaluated < min_evaluated:
        return None, f"only {n_evaluated} held-out records (at least {min_evaluated} needed)"
    target = baseline.value(estimator)
    if not math.isfinite(target):
        return None, f"the current configuration's {estimator} estimate is undefined"
    passing = [
        c
        for c in evaluated
        if c.estimates.rewarded_records >= min_rewarded
        and math.isfinite(c.lower_bound(estimator, z))
        and c.lower_bound(estimator, z) > target
    ]
    if not passing:
        best = max(evaluated, key=lambda c: _or_minus_inf(c.lower_bound(estimator, z)))
        return None, (
            f"no candidate's lower bound beats the current {estimator} estimate "
            f"{target:.4f} (best: {best.name}, bound {best.lower_bound(estimator, z):.4f})"
        )
    winner = max(passing, key=lambda c: c.lower_bound(estimator, z))
    return winner, (
        f"{winner.name}: lower bound {winner.lower_bound(estimator, z):.4f} > current "
        f"{estimator} estimate {target:.4f}"
    )


def _or_minus_inf(value: float) -> float:
    return value if math.isfinite(value) else -math.inf


def format_result(result: TuningResult) -> str:
    """A plain-text table of a tuning run, for the CLI."""
    e, z = result.estimator, result.z
    lines = [
        f"{result.n_records} decision-slots: trained on the first {result.n_train}, "
        f"evaluated on the last {result.n_evaluated}; logged (on-policy) value "
        f"{result.logged_value:.4f}",
        f"promotion rule: {e} one-sided {result.confidence:.0%} lower bound (Bonferroni over "
        f"{len(result.candidates)} candidates, z={z:.2f}) > the current configuration's {e}",
        f"{'configuration':<28} {'IPS':>8} {'SNIPS':>8} {'DR':>8} "
        f"{'bound of ' + e:>18} {'ESS':>8} {'n_rew':>6}",
    ]
    for item in (result.current, *result.candidates):
        x = item.estimates
        lines.append(
            f"{item.name:<28} {x.estimate('IPS').value:>8.4f} {x.estimate('SNIPS').value:>8.4f} "
            f"{x.estimate('DR').value:>8.4f} {item.lower_bound(e, z):>18.4f} "
            f"{x.effective_sample_size:>8.1f} {x.rewarded_records:>6}"
        )
    verdict = "promote" if result.promoted is not None else "keep the current configuration"
    lines.append(f"decision: {verdict} -- {result.reason}")
    return "\n".join(lines)
