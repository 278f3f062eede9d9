"""Target policies for off-policy evaluation.

A policy maps a logged record to a probability for every candidate of that record (same
order as `record.candidates`). The logging policy is special: only the probability of the
logged action is known, so it returns None and estimators fall back to on-policy means.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from bandit.features import ActionId
from bandit.learner import BanditLearner
from bandit.logs import LoggedDecision


class EvaluationPolicy(Protocol):
    """A policy whose value can be estimated from a log."""

    name: str

    def distribution(self, record: LoggedDecision) -> np.ndarray | None:
        """pi(a | record) for each candidate, or None for the logging policy itself."""
        ...


class LoggingPolicy:
    """The policy that wrote the log (its value is the mean logged reward)."""

    name = "logging"

    def distribution(self, record: LoggedDecision) -> None:
        return None


class UniformPolicy:
    """pi(a|x) = 1 / |candidates of the slot|."""

    name = "uniform"

    def distribution(self, record: LoggedDecision) -> np.ndarray:
        n = len(record.candidates)
        return np.full(n, 1.0 / n)


class LearnerPolicy:
    """A trained `BanditLearner`, exploration included, as a fixed (non-learning) policy."""

    def __init__(self, learner: BanditLearner, name: str = "vw") -> None:
        self.name = name
        self._learner = learner

    def distribution(self, record: LoggedDecision) -> np.ndarray:
        return self._learner.action_probabilities(record.context, record.candidates)


class SlotMarginalPolicy:
    """A context-free policy given by per-slot action frequencies observed in a log.

    Used to stand for a logging policy whose full distribution was not logged, e.g. the
    Open Bandit Dataset's Bernoulli Thompson Sampling: the frequency of item a at slot s in
    its own log is an unbiased estimate of its time-averaged pi(a | s), which is what its
    on-policy CTR averages over. (Averaging the logged propensities of chosen items instead
    would be biased towards the times an item was likely.)
    """

    def __init__(self, records: Sequence[LoggedDecision], name: str = "slot-marginal") -> None:
        self.name = name
        counts: dict[int, Counter[ActionId]] = defaultdict(Counter)
        for record in records:
            counts[record.slot][record.chosen_id] += 1
        self._tables = {
            slot: {action: n / sum(counter.values()) for action, n in counter.items()}
            for slot, counter in counts.items()
        }

    def distribution(self, record: LoggedDecision) -> np.ndarray:
        table = self._tables.get(record.slot, {})
        probabilities = np.array([table.get(c.action_id, 0.0) for c in record.candidates])
        total = probabilities.sum()
        if total <= 0:
            # A slot never seen in the source log: fall back to uniform.
            return np.full(len(record.candidates), 1.0 / len(record.candidates))
        return probabilities / total
