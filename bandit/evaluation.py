"""Offline evaluation of recommendation policies from a logged-feedback file.

`evaluate_file(path, "obd" | "shopgraph")` reads a log, sorts it by time, trains a VW
policy (`BanditLearner`, learning with the logged probabilities) on the first
`train_fraction` of it and estimates, on the remaining part only, the value of

- the logging policy (on-policy mean reward),
- the uniform random policy,
- the trained VW policy, exploration included (its full pmf per record),

with IPS, SNIPS and DR (see `bandit.estimators`). All policies are scored on the same
held-out records so their numbers are comparable. The VW policy does not learn during
evaluation: it is the policy one would deploy at the split time.

DR's reward model and the estimator plumbing live in `bandit.policy_value`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bandit.learner import BanditLearner, LearnerConfig
from bandit.logs import LoggedDecision, read_shopgraph_log
from bandit.obd import OBD_LEARNER_CONFIG, read_obd
from bandit.policies import EvaluationPolicy, LearnerPolicy, LoggingPolicy, UniformPolicy
from bandit.policy_value import PolicyEstimates, cross_fitted_reward_model, estimate_policy

LogFormat = Literal["obd", "shopgraph"]


@dataclass(frozen=True)
class Report:
    """The result of an offline evaluation."""

    source: str
    log_format: str
    n_records: int
    n_train: int
    n_evaluated: int
    policies: tuple[PolicyEstimates, ...]
    notes: tuple[str, ...] = ()

    def policy(self, name: str) -> PolicyEstimates:
        for policy in self.policies:
            if policy.policy == name:
                return policy
        raise KeyError(name)


def evaluate_file(
    path: str | Path,
    fmt: LogFormat,
    *,
    train_fraction: float = 0.7,
    learner_config: LearnerConfig | None = None,
    item_context: str | Path | None = None,
) -> Report:
    """Read a log in `fmt` and evaluate logging, uniform and VW policies (see module docs).

    `item_context` is OBD's item feature file (default: `item_context.csv` beside `path`).
    """
    if fmt == "obd":
        records = read_obd(path, item_context=item_context)
        config = learner_config or OBD_LEARNER_CONFIG
    elif fmt == "shopgraph":
        records = read_shopgraph_log(path)
        config = learner_config or LearnerConfig()
    else:
        raise ValueError(f"unknown log format {fmt!r} (expected 'obd' or 'shopgraph')")
    return evaluate_records(
        records,
        source=str(path),
        log_format=fmt,
        train_fraction=train_fraction,
        learner_config=config,
    )


def evaluate_records(
    records: Sequence[LoggedDecision],
    *,
    source: str = "",
    log_format: str = "",
    train_fraction: float = 0.7,
    learner_config: LearnerConfig | None = None,
    extra_policies: Sequence[EvaluationPolicy] = (),
    prior_strength: float = 20.0,
) -> Report:
    """Evaluate policies on already-read records (see module docs for the protocol)."""
    if not 0.0 <= train_fraction < 1.0:
        raise ValueError("train_fraction must be in [0, 1)")
    ordered = sorted(records, key=lambda r: (r.time is None, r.time or 0))
    split = int(len(ordered) * train_fraction)
    train, held_out = ordered[:split], ordered[split:]
    if not held_out:
        raise ValueError("no records left to evaluate on")
    policies: list[EvaluationPolicy] = [LoggingPolicy(), UniformPolicy()]
    notes = []
    if train:
        learner = BanditLearner(learner_config)
        learner.learn_many(r.to_learn_example() for r in train)
        policies.append(LearnerPolicy(learner, name="vw"))
        notes.append(f"vw trained on {len(train)} records with {learner_config}")
    policies += extra_policies
    reward_model = cross_fitted_reward_model(held_out, prior_strength=prior_strength)
    results = tuple(
        estimate_policy(policy, held_out, reward_model=reward_model) for policy in policies
    )
    return Report(
        source=source,
        log_format=log_format,
        n_records=len(ordered),
        n_train=len(train),
        n_evaluated=len(held_out),
        policies=results,
        notes=tuple(notes),
    )


def format_report(report: Report) -> str:
    """A plain-text table of a report, for the CLI."""
    lines = [
        f"source: {report.source} ({report.log_format}), {report.n_records} records; "
        f"trained on the first {report.n_train}, evaluated on the last {report.n_evaluated}",
        f"{'policy':<10} {'estimator':<10} {'value':>10} {'95% CI':>24} {'ESS':>9} "
        f"{'max w':>8} {'n_rew':>6}",
    ]
    for policy in report.policies:
        flag = "" if policy.reliable_interval else " !"
        for estimate in policy.estimates:
            interval = f"[{estimate.ci_low:.5f}, {estimate.ci_high:.5f}]"
            lines.append(
                f"{policy.policy:<10} {estimate.estimator:<10} {estimate.value:>10.5f} "
                f"{interval:>24} {policy.effective_sample_size:>9.1f} {policy.max_weight:>8.2f} "
                f"{policy.rewarded_records:>6}{flag}"
            )
    if not all(p.reliable_interval for p in report.policies):
        lines.append(
            "! fewer than 10 rewarded records carry weight: the interval is unreliable "
            "(too narrow); collect more data before trusting this comparison"
        )
    lines += [f"note: {note}" for note in report.notes]
    return "\n".join(lines)
