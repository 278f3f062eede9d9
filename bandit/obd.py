"""The Open Bandit Dataset (ZOZOTOWN; Saito et al., NeurIPS 2021 Datasets and Benchmarks).

Reading. Each CSV row (columns: unnamed index, timestamp, item_id, position, click,
propensity_score, user_feature_0..3, user-item_affinity_0..N-1) becomes one
`LoggedDecision`: the context carries the four hashed user features and the non-zero
user-item affinities as free features; the candidates are all items of `item_context.csv`
(item_feature_0 is numeric, 1..3 hashed categories, all put in the product `features`);
the reward is the click.

Positions. OBD shows 3 items per impression and logs one row per position with the
*marginal* propensity of the item at that position, not the slate's joint probability.
So each row is treated as its own single-slot decision over all items, with the position
as the slot (0-based) — the same per-slot semantics as shopgraph's slates. Position then
enters as context: target policies may depend on it (the BTS stand-in does, uniform does
not), VW learns it as its slot feature, and estimates pool the three positions (the
logging CTRs of the paper are pooled too). `cross_check(..., position=p)` restricts
everything to one position instead.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bandit.estimators import Z_95, Estimate, on_policy
from bandit.features import ActionFeatures, ContextFeatures
from bandit.learner import LearnerConfig
from bandit.logs import LoggedDecision
from bandit.policies import EvaluationPolicy, SlotMarginalPolicy, UniformPolicy
from bandit.policy_value import estimate_policy

# OBD has no shopgraph profile; its user features land in the free namespace X, so the
# VW policy crosses them with item identity (I) and item features (P).
OBD_LEARNER_CONFIG = LearnerConfig(interactions=("XI", "XP"))


def read_item_context(path: str | Path) -> tuple[ActionFeatures, ...]:
    """Items of an OBD `item_context.csv`, ordered by item id."""
    with Path(path).open(newline="") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda row: int(row["item_id"]))
    return tuple(
        ActionFeatures(
            action_id=int(row["item_id"]),
            features={
                "f0": float(row["item_feature_0"]),
                **{f"f{i}": row[f"item_feature_{i}"] for i in (1, 2, 3)},
            },
        )
        for row in rows
    )


def read_obd(path: str | Path, *, item_context: str | Path | None = None) -> list[LoggedDecision]:
    """Read an OBD log CSV (and its item context, by default beside it)."""
    path = Path(path)
    items = read_item_context(item_context or path.with_name("item_context.csv"))
    item_ids = {item.action_id for item in items}
    records = []
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        affinity_columns = [
            c for c in reader.fieldnames or () if c.startswith("user-item_affinity_")
        ]
        for row in reader:
            item = int(row["item_id"])
            if item not in item_ids:
                raise ValueError(f"{path}: item {item} is not in the item context")
            affinities = {
                column.removeprefix("user-item_affinity_"): float(row[column])
                for column in affinity_columns
                if float(row[column]) != 0.0
            }
            time = datetime.fromisoformat(row["timestamp"])
            records.append(
                LoggedDecision(
                    event_id=row.get("") or str(len(records)),
                    time=time,
                    context=ContextFeatures(
                        timestamp=time,
                        features={
                            **{f"u{i}": row[f"user_feature_{i}"] for i in range(4)},
                            "affinity": affinities,
                        },
                    ),
                    candidates=items,
                    chosen_id=item,
                    slot=int(row["position"]) - 1,
                    probability=float(row["propensity_score"]),
                    reward=float(row["click"]),
                )
            )
    return records


@dataclass(frozen=True)
class CrossCheck:
    """One policy's value estimated from another policy's log, against its own on-policy CTR."""

    target: str
    log: str
    truth: Estimate
    estimates: tuple[Estimate, ...]

    def relative_error(self, estimate: Estimate) -> float:
        """|V_hat - V| / V with V the target's on-policy CTR."""
        return abs(estimate.value - self.truth.value) / self.truth.value

    def consistent(self, estimate: Estimate) -> bool:
        """Whether V_hat - V is within 1.96 standard errors of 0, counting the sampling
        error of the on-policy CTR too (both are estimates from ~10k rows)."""
        error = math.hypot(estimate.std_error, self.truth.std_error)
        return abs(estimate.value - self.truth.value) <= Z_95 * error


def cross_check(
    random_log: Sequence[LoggedDecision],
    bts_log: Sequence[LoggedDecision],
    *,
    position: int | None = None,
) -> list[CrossCheck]:
    """The OBD paper's validation: Random's value from BTS's log and BTS's from Random's.

    BTS's full distribution was not logged; it is stood in for by its per-position item
    frequencies in its own log (`SlotMarginalPolicy`), an unbiased estimate of the
    time-averaged policy whose mean click rate the BTS log measures.
    """
    if position is not None:
        random_log = [r for r in random_log if r.slot == position - 1]
        bts_log = [r for r in bts_log if r.slot == position - 1]
    checks = []
    pairs: list[tuple[str, EvaluationPolicy, Sequence, Sequence]] = [
        ("random", UniformPolicy(), bts_log, random_log),
        ("bts", SlotMarginalPolicy(bts_log, name="bts"), random_log, bts_log),
    ]
    for target, policy, log, own_log in pairs:
        result = estimate_policy(policy, log)
        truth = on_policy([r.reward for r in own_log])
        checks.append(
            CrossCheck(target, "bts" if log is bts_log else "random", truth, result.estimates)
        )
    return checks


def format_cross_check(checks: Sequence[CrossCheck]) -> str:
    """A table of cross-check results (estimate, CI, relative error, CI covers the truth)."""
    lines = [
        f"{'target':<7} {'from log':<9} {'estimator':<10} {'value':>9} {'95% CI':>22} "
        f"{'on-policy':>10} {'rel.err':>8} {'covers':>7} {'consistent':>10}"
    ]
    for check in checks:
        truth = check.truth
        lines.append(
            f"{check.target:<7} {'(own)':<9} {'on-policy':<10} {truth.value:>9.5f} "
            f"{f'[{truth.ci_low:.5f}, {truth.ci_high:.5f}]':>22}"
        )
        for estimate in check.estimates:
            interval = f"[{estimate.ci_low:.5f}, {estimate.ci_high:.5f}]"
            lines.append(
                f"{check.target:<7} {check.log:<9} {estimate.estimator:<10} "
                f"{estimate.value:>9.5f} {interval:>22} {truth.value:>10.5f} "
                f"{check.relative_error(estimate):>8.3f} {estimate.covers(truth.value)!s:>7} "
                f"{check.consistent(estimate)!s:>10}"
            )
    return "\n".join(lines)
