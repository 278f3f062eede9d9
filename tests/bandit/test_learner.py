"""BanditLearner: slates, exact propensities, learning signal, sequence bookkeeping."""

from __future__ import annotations

import threading
from collections import Counter

import numpy as np
import pytest
from vowpalwabbit import Workspace

from bandit import vw_binding
from bandit.features import ActionFeatures, ContextFeatures, FeatureEncoder
from bandit.learner import BanditLearner, LearnerConfig
from bandit.slates import LearnExample


def train_toy(
    learner: BanditLearner,
    contexts_and_targets: list[tuple[ContextFeatures, str]],
    catalog: list[ActionFeatures],
    rounds: int,
) -> None:
    """Each context rewards one product (+1) and nothing else, learned from its own slates."""
    sequence = 0
    for r in range(rounds):
        for context, target in contexts_and_targets:
            slate = learner.rank(context, catalog, 3, seed=r)
            for item in slate.items:
                sequence += 1
                reward = 1.0 if item.action_id == target else 0.0
                example = slate.example_for(
                    item.action_id, reward, context=context, candidates=catalog, sequence=sequence
                )
                assert learner.learn(example)


def prob_of(learner: BanditLearner, context, catalog, action_id: str) -> float:
    pmf = learner.action_probabilities(context, catalog)
    return float(pmf[[c.action_id for c in catalog].index(action_id)])


def test_rank_is_deterministic_for_a_seed(learner, shoe_fan, catalog) -> None:
    first = learner.rank(shoe_fan, catalog, 5, seed=123)
    assert learner.rank(shoe_fan, catalog, 5, seed=123) == first
    others = {tuple(learner.rank(shoe_fan, catalog, 5, seed=s).action_ids) for s in range(20)}
    assert len(others) > 1  # the seed matters: a fresh model explores


def test_slate_shape_and_probabilities(learner, shoe_fan, catalog) -> None:
    slate = learner.rank(shoe_fan, catalog, 4, seed=1)
    assert [item.slot for item in slate.items] == [0, 1, 2, 3]
    assert len(set(slate.action_ids)) == 4
    for item in slate.items:
        assert 0.0 < item.probability <= 1.0
    pmf = learner.action_probabilities(shoe_fan, catalog)
    assert pmf.sum() == pytest.approx(1.0)
    assert np.all(pmf > 0)


def test_k_larger_than_candidates_returns_all(learner, shoe_fan, catalog) -> None:
    slate = learner.rank(shoe_fan, catalog[:3], 10, seed=0)
    assert sorted(slate.action_ids) == sorted(c.action_id for c in catalog[:3])
    assert slate.items[-1].probability == pytest.approx(1.0)  # last one left is certain


def test_invalid_rank_requests_raise(learner, shoe_fan, catalog) -> None:
    with pytest.raises(ValueError, match="empty"):
        learner.rank(shoe_fan, [], 3)
    with pytest.raises(ValueError, match="duplicate"):
        learner.rank(shoe_fan, [catalog[0], catalog[1], catalog[0]], 2)
    with pytest.raises(ValueError, match="k must be"):
        learner.rank(shoe_fan, catalog, 0)


def test_learning_moves_probability_to_the_rewarded_product(
    learner, shoe_fan, hat_fan, catalog
) -> None:
    before_shoe = prob_of(learner, shoe_fan, catalog, "p4")
    before_hat = prob_of(learner, hat_fan, catalog, "p7")
    train_toy(learner, [(shoe_fan, "p4"), (hat_fan, "p7")], catalog, rounds=150)
    # Personalised: each context prefers its own product, not a global favourite.
    assert prob_of(learner, shoe_fan, catalog, "p4") > 0.8 > before_shoe
    assert prob_of(learner, hat_fan, catalog, "p7") > 0.8 > before_hat
    assert prob_of(learner, shoe_fan, catalog, "p7") < 0.05
    slate = learner.rank(shoe_fan, catalog, 3, seed=999)
    assert slate.items[0].score == max(item.score for item in slate.items)


def test_reported_probability_is_the_slot_probability(learner, shoe_fan, catalog) -> None:
    train_toy(learner, [(shoe_fan, "p4")], catalog, rounds=60)
    counts: Counter[tuple[str, str]] = Counter()
    reported: dict[tuple[str, str], float] = {}
    draws = 3000
    for seed in range(draws):
        slate = learner.rank(shoe_fan, catalog, 2, seed=seed)
        first, second = slate.items
        counts[("slot0", first.action_id)] += 1
        reported[("slot0", first.action_id)] = first.probability
        if first.action_id == "p4":
            counts[("slot1", second.action_id)] += 1
            reported[("slot1", second.action_id)] = second.probability
    top = counts[("slot0", "p4")]
    assert reported[("slot0", "p4")] == pytest.approx(top / draws, abs=0.02)
    # Slot 1 given p4 above it: the model's pmf over the *remaining* candidates.
    remaining = [c for c in catalog if c.action_id != "p4"]
    pmf = learner.action_probabilities(shoe_fan, remaining)
    for (slot, action_id), probability in reported.items():
        if slot == "slot1":
            index = [c.action_id for c in remaining].index(action_id)
            assert probability == pytest.approx(pmf[index], rel=1e-6)
    best_second = max((k for k in counts if k[0] == "slot1"), key=counts.__getitem__)
    assert reported[best_second] == pytest.approx(counts[best_second] / top, abs=0.03)


def test_model_version_and_sequences(learner, shoe_fan, catalog) -> None:
    version = learner.model_version
    example = LearnExample(shoe_fan, catalog, "p1", probability=0.5, reward=1.0, sequence=10)
    assert learner.learn(example)
    assert learner.updates == 1 and learner.last_sequence == 10
    assert learner.model_version != version
    assert not learner.learn(example)  # same sequence again: a duplicate
    assert not learner.learn(LearnExample(shoe_fan, catalog, "p1", 0.5, 1.0, sequence=9))
    assert learner.updates == 1
    assert learner.learn(LearnExample(shoe_fan, catalog, "p2", 0.5, 0.0))  # unsequenced
    assert (
        learner.learn_many(
            LearnExample(shoe_fan, catalog, "p3", 0.5, 0.0, sequence=s) for s in (10, 11, 12)
        )
        == 2
    )
    assert learner.updates == 4 and learner.last_sequence == 12


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"probability": 0.0}, "probability"),
        ({"probability": 1.5}, "probability"),
        ({"reward": float("nan")}, "reward"),
        ({"chosen_id": "nope"}, "not among"),
        ({"candidates": []}, "at least one"),
        ({"slot": -1}, "slot"),
    ],
)
def test_invalid_examples_are_rejected(learner, shoe_fan, catalog, changes, message) -> None:
    fields = {
        "context": shoe_fan,
        "candidates": catalog,
        "chosen_id": "p1",
        "probability": 0.5,
        "reward": 1.0,
    }
    with pytest.raises(ValueError, match=message):
        learner.learn(LearnExample(**{**fields, **changes}))
    assert learner.updates == 0


def test_slate_example_rebuilds_the_slot_candidate_set(learner, shoe_fan, catalog) -> None:
    slate = learner.rank(shoe_fan, catalog, 3, seed=4)
    third = slate.items[2]
    example = slate.example_for(third.action_id, 2.0, context=shoe_fan, candidates=catalog)
    above = set(slate.action_ids[:2])
    assert {c.action_id for c in example.candidates} == {c.action_id for c in catalog} - above
    assert (example.slot, example.probability) == (2, third.probability)


def test_fast_binding_path_matches_public_api(shoe_fan, hat_fan, catalog) -> None:
    """`bandit.vw_binding` must learn and predict exactly like `Workspace.learn/predict`."""
    args = LearnerConfig(bits=18).vw_args()
    native, public = Workspace(arg_list=args), Workspace(arg_list=args)
    encoder = FeatureEncoder()
    for i in range(40):
        context = (shoe_fan, hat_fan)[i % 2]
        label = {i % len(catalog): f"0:{-(i % 3)}:0.25"}
        lines = [
            encoder.shared_line(context, slot=i % 2),
            *encoder.action_lines(context, catalog, labels=label),
        ]
        vw_binding.learn(native, lines)
        public.learn(lines)
    lines = [encoder.shared_line(shoe_fan), *encoder.action_lines(shoe_fan, catalog)]
    examples = vw_binding.parse(native, lines)
    try:
        fast = vw_binding.predict_pmf(native, examples)
        costs = vw_binding.action_costs(examples)
    finally:
        vw_binding.finish(native, examples)
    assert fast == pytest.approx(public.predict(lines), abs=1e-7)
    assert max(fast) > 0.5  # trained, not a uniform fresh model
    assert len(costs) == len(catalog) and len(set(costs)) > 1
    native.finish()
    public.finish()


def test_concurrent_use_is_serialised(learner, shoe_fan, hat_fan, catalog) -> None:
    errors: list[BaseException] = []

    def worker(context: ContextFeatures, offset: int) -> None:
        try:
            for i in range(100):
                slate = learner.rank(context, catalog, 3, seed=offset + i)
                item = slate.items[0]
                learner.learn(
                    slate.example_for(item.action_id, 1.0, context=context, candidates=catalog)
                )
        except BaseException as error:  # surfaced by the assert below
            errors.append(error)

    threads = [
        threading.Thread(target=worker, args=(c, i * 1000))
        for i, c in enumerate([shoe_fan, hat_fan] * 2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert learner.updates == 400
