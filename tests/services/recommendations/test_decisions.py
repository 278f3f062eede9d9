"""The decision row format: what is ranked is exactly what is logged, replayed and learned."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bandit.features import ActionFeatures, ContextFeatures, FeatureEncoder
from bandit.slates import Slate, SlateItem
from services.recommendations.decisions import (
    Decision,
    UnloggableDecision,
    UnreadableDecision,
    decode,
    encode,
    loggable,
    rebuild,
)

NOW = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=8)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)  # fmt: skip
states = st.tuples(
    st.none() | st.integers(0, 10**11).map(lambda c: Decimal(c).scaleb(-2)),
    st.none() | st.floats(0, 1e9, allow_nan=False),
    st.none() | st.floats(0, 1e5, allow_nan=False),
)


def _candidates(states_list) -> tuple[ActionFeatures, ...]:
    return tuple(
        loggable(
            ActionFeatures(
                action_id=i + 1, category=f"c{i % 4}", brand="b", price=price,
                popularity=popularity, created_days_ago=age, features={"size": i % 3},
            )
        )
        for i, (price, popularity, age) in enumerate(states_list)
    )  # fmt: skip


def _decision(candidates, context: ContextFeatures, k: int) -> Decision:
    items = tuple(
        SlateItem(candidates[i].action_id, slot, 1 / (slot + 2), -0.5 * slot)
        for slot, i in enumerate(range(min(k, len(candidates))))
    )
    return Decision(
        event_id="e" * 32, user_id=7, session_id=None, context=context,
        candidates=candidates, slate=Slate(items, "run:3"), created_at=NOW,
    )  # fmt: skip


def _row(decision: Decision) -> SimpleNamespace:
    """What `rebuild` reads of a row (the columns and the payload)."""
    return SimpleNamespace(
        id=1, event_id=decision.event_id, user_id=decision.user_id,
        session_id=decision.session_id, payload=encode(decision),
        model_version=decision.slate.model_version, created_at=decision.created_at,
    )  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(
    states_list=st.lists(states, min_size=1, max_size=40),
    features=st.dictionaries(st.text(max_size=6), json_values, max_size=4),
    preferences=st.dictionaries(st.text(max_size=6), json_values, max_size=3),
    device=st.none() | st.text(max_size=10),
    k=st.integers(1, 10),
    stamp=st.sampled_from([NOW, NOW - timedelta(seconds=3), None]),
)
def test_a_decision_rebuilds_into_the_very_examples_it_was_ranked_with(
    states_list, features, preferences, device, k, stamp
):
    candidates = _candidates(states_list)
    context = ContextFeatures(
        user_id=7, timestamp=stamp, device=device, page="home", preferences=preferences,
        recent_categories=("c1", "c2"), features=features, disliked_categories=("c3",),
        disliked_brands=("b1",), disliked_items=(candidates[0].action_id,),
    )  # fmt: skip
    decision = _decision(candidates, context, k)
    statics = {c.action_id: c for c in candidates}
    rebuilt = rebuild(_row(decision), statics)
    assert rebuilt.context == context
    assert rebuilt.slate == decision.slate
    assert [c.price for c in rebuilt.candidates] == [c.price for c in candidates]
    assert rebuilt.candidates == candidates
    # What VW sees: the same lines, byte for byte.
    encoder = FeatureEncoder()
    for slot in range(len(decision.slate.items)):
        original = decision.slate.candidates_at(slot, candidates)
        again = rebuilt.slate.candidates_at(slot, rebuilt.candidates)
        assert encoder.action_lines(context, original) == encoder.action_lines(context, again)
    assert encoder.shared_line(context) == encoder.shared_line(rebuilt.context)


def test_loggable_keeps_what_the_learner_uses():
    raw = ActionFeatures(action_id=1, price=19.999, popularity=12.299999999999999,
                         created_days_ago=6.9999)  # fmt: skip
    logged = loggable(raw)
    assert (logged.price, logged.popularity, logged.created_days_ago) == (
        Decimal("20.00"), 12.3, 6.0,
    )  # fmt: skip
    assert loggable(logged) is logged  # already in logged form: the same object
    encoder = FeatureEncoder()
    # Whole days never move an item across an age band (their limits are whole days).
    assert "age=new" in encoder.static_action_line(logged)
    assert "age=new" in encoder.static_action_line(raw)


def test_a_typical_slate_is_compact():
    rng = random.Random(3)
    candidates = _candidates(
        [
            (Decimal(rng.randrange(500, 50000)).scaleb(-2), round(rng.uniform(0, 5000), 3),
             rng.uniform(0, 700))
            for _ in range(150)
        ]
    )  # fmt: skip
    context = ContextFeatures(user_id=7, timestamp=NOW, device="mobile", page="home")
    payload = encode(_decision(candidates, context, 10))
    assert len(payload) < 1600, len(payload)


@pytest.mark.parametrize(
    "features",
    [{"x": 18446744073709551616}, {"x": ["\ud800"]}, {"x": [[[[]]]] * 1}],
    ids=["integer past 64 bits", "lone surrogate", "fine"],
)
def test_json_the_encoder_refuses_makes_the_decision_unloggable(features):
    context = ContextFeatures(user_id=1, timestamp=NOW, features=features)
    decision = _decision(_candidates([(None, None, None)]), context, 1)
    if features == {"x": [[[[]]]] * 1}:
        assert decode(encode(decision), created_at=NOW).context.features == features
        return
    with pytest.raises(UnloggableDecision):
        encode(decision)


def test_deep_nesting_is_unloggable():
    deep: dict = {}
    for _ in range(300):
        deep = {"x": deep}
    context = ContextFeatures(user_id=1, timestamp=NOW, features=deep)
    with pytest.raises(UnloggableDecision):
        encode(_decision(_candidates([(None, None, None)]), context, 1))


def test_a_candidate_not_in_logged_form_is_refused():
    raw = ActionFeatures(action_id=1, price=1.005)
    context = ContextFeatures(user_id=1, timestamp=NOW)
    with pytest.raises(UnloggableDecision):
        encode(_decision((raw,), context, 1))


@pytest.mark.parametrize("payload", [b"", b"\x02abc", b"\x01not zlib", b"\x01" + b"x\x9c\x03\x00"])
def test_a_damaged_payload_is_unreadable(payload):
    with pytest.raises(UnreadableDecision):
        decode(payload, created_at=NOW)


def test_a_decision_whose_candidate_is_gone_cannot_be_rebuilt():
    candidates = _candidates([(None, 1.0, 2.0), (None, 3.0, 4.0)])
    decision = _decision(candidates, ContextFeatures(timestamp=NOW), 1)
    assert rebuild(_row(decision), {1: candidates[0]}) is None
