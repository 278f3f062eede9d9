"""Plain data at the learner's boundary: slates out, learning examples in.

A slate is filled slot by slot: slot 0 is sampled from the policy's distribution over all
candidates, slot 1 from its distribution over the candidates not yet shown, and so on.
Each `SlateItem.probability` is therefore the conditional probability of that item at
that slot given the items above it — exactly the propensity a per-item reward must be
learned with. `Slate.example_for` rebuilds the candidate set of a slot for that purpose.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bandit.features import ActionFeatures, ActionId, ContextFeatures


@dataclass(frozen=True)
class SlateItem:
    """One recommended product.

    `slot` is 0-based (0 = first position). `probability` is the exact probability with
    which this item was drawn at this slot (always > 0). `score` is the model's estimated
    reward for the item (higher is better), for display or tie-free ordering; it is an
    estimate, not a probability.
    """

    action_id: ActionId
    slot: int
    probability: float
    score: float


@dataclass(frozen=True)
class Slate:
    """An ordered list of recommendations and the model version that produced it."""

    items: tuple[SlateItem, ...]
    model_version: str

    @property
    def action_ids(self) -> list[ActionId]:
        """Recommended ids in slot order."""
        return [item.action_id for item in self.items]

    def item(self, action_id: ActionId) -> SlateItem:
        """The slate entry for `action_id` (KeyError if it was not recommended)."""
        for entry in self.items:
            if entry.action_id == action_id:
                return entry
        raise KeyError(action_id)

    def candidates_at(
        self, slot: int, candidates: Sequence[ActionFeatures]
    ) -> tuple[ActionFeatures, ...]:
        """The set slot `slot` was drawn from: `candidates` minus the items of earlier slots.

        This is what a decision-log line records as its candidates.
        """
        shown_above = {item.action_id for item in self.items[:slot]}
        return tuple(c for c in candidates if c.action_id not in shown_above)

    def example_for(
        self,
        action_id: ActionId,
        reward: float,
        *,
        context: ContextFeatures,
        candidates: Sequence[ActionFeatures],
        sequence: int | None = None,
    ) -> LearnExample:
        """The learning example for a reward on `action_id`.

        `context` and `candidates` must be those passed to `rank` for this slate (the
        caller logs them). The slot's candidate set is rebuilt by removing the items of
        earlier slots, so the example carries the same action set and propensity under
        which the item was chosen.
        """
        entry = self.item(action_id)
        return LearnExample(
            context=context,
            candidates=self.candidates_at(entry.slot, candidates),
            chosen_id=action_id,
            probability=entry.probability,
            reward=reward,
            slot=entry.slot,
            sequence=sequence,
        )


@dataclass(frozen=True)
class LearnExample:
    """One reward to learn from: a slot's decision and what it earned.

    `candidates` is the set the slot was chosen from (for slot s: the ranked candidates
    minus the items of slots < s), `probability` the logged probability of `chosen_id`
    at that slot, `reward` the reward (cost = -reward). `sequence` is the caller's
    monotonically increasing id of this example (e.g. the reward event's row id); the
    learner records the highest one it has learned so replay after a checkpoint is exact.
    """

    context: ContextFeatures
    candidates: Sequence[ActionFeatures]
    chosen_id: ActionId
    probability: float
    reward: float
    slot: int = 0
    sequence: int | None = None

    def chosen_index(self) -> int:
        """Position of `chosen_id` in `candidates` (ValueError if absent)."""
        for index, candidate in enumerate(self.candidates):
            if candidate.action_id == self.chosen_id:
                return index
        raise ValueError(f"chosen action {self.chosen_id!r} is not among the candidates")

    def validate(self) -> None:
        """Raise ValueError for examples VW would silently mis-learn from."""
        if not self.candidates:
            raise ValueError("a learning example needs at least one candidate")
        if not (0.0 < self.probability <= 1.0) or not math.isfinite(self.probability):
            raise ValueError(f"probability must be in (0, 1], got {self.probability!r}")
        if not math.isfinite(self.reward):
            raise ValueError(f"reward must be finite, got {self.reward!r}")
        if self.slot < 0:
            raise ValueError(f"slot must be >= 0, got {self.slot}")
        ensure_unique_ids(self.candidates)
        self.chosen_index()


def ensure_unique_ids(candidates: Sequence[ActionFeatures]) -> None:
    """Raise ValueError when two candidates share an action id."""
    seen: set[ActionId] = set()
    for candidate in candidates:
        if candidate.action_id in seen:
            raise ValueError(f"duplicate candidate id {candidate.action_id!r}")
        seen.add(candidate.action_id)


def checked_pmf(raw: Sequence[float]) -> list[float]:
    """Validate a VW probability vector and renormalise away float32 rounding.

    Some VW explorers emit invalid vectors in edge cases (measured on 9.11.9:
    `--squarecb --elim` gives negative entries on a fresh model, `--regcbopt` gives 1.0
    for every tied action); those raise instead of producing wrong propensities.
    Plain Python: for ~150 entries it is faster than a round trip through numpy.
    """
    values = list(map(float, raw))
    total = sum(values)  # NaN or inf entries make the total non-finite
    if not values or not math.isfinite(total) or min(values) < 0.0:
        raise ValueError(f"invalid action distribution from VW: {values!r}")
    if not 0.99 <= total <= 1.01:
        raise ValueError(f"action distribution from VW sums to {total}, not 1")
    return [p / total for p in values]


def sample_index(pmf: Sequence[float], rng: np.random.Generator) -> int:
    """Draw an index from a normalised `pmf` (never one with probability 0)."""
    cumulative = list(itertools.accumulate(pmf))
    index = bisect.bisect_right(cumulative, rng.random() * cumulative[-1])
    index = min(index, len(pmf) - 1)
    # Float edge cases could land on a zero-probability entry; move to the next
    # positive one (there always is one because the pmf sums to 1).
    while pmf[index] <= 0.0:
        index = (index + 1) % len(pmf)
    return index
