"""Feature encoding: VW-safe tokens, bounded namespaces, cold start, match features."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pylibvw
import pytest
from vowpalwabbit import Workspace

from bandit.features import (
    ActionFeatures,
    ContextFeatures,
    FeatureEncoder,
    favourite_categories,
    price_band,
)
from bandit.tokens import MAX_TOKEN_CHARS, escape, flatten

CONSTANT_NAMESPACE = 128  # VW adds its bias feature in this namespace

HOSTILE = [
    "a|b",
    "x:1.5",
    "two words",
    "line\nbreak",
    "tab\there",
    "|U injected:99 more",
    "\n0:-1:0.5 |I id=evil",
    "shared |U x",
    "日本語ブランド",
    "émoji 🎉",
    "%41",
    "A",
    "",
    "   ",
]


def _namespaces(workspace: Workspace, line: str) -> dict[str, int]:
    """Feature count per namespace letter of one parsed action line."""
    examples = pylibvw.vw._parse(workspace, line)
    try:
        assert len(examples) == 1, "a single line must parse as a single example"
        example = examples[0]
        counts = {}
        for i in range(example.num_namespaces()):
            ns = example.namespace(i)
            if ns != CONSTANT_NAMESPACE:
                counts[chr(ns)] = example.num_features_in(ns)
        return counts
    finally:
        pylibvw.vw._finish_example_multi_ex(workspace, examples)


@pytest.fixture(scope="module")
def workspace() -> Workspace:
    ws = Workspace("--cb_explore_adf --quiet")
    yield ws
    ws.finish()


@pytest.mark.parametrize("value", HOSTILE)
def test_escaped_tokens_contain_no_vw_syntax(value: str) -> None:
    escaped = escape(value)
    assert escaped.isascii()
    assert not any(ch in escaped for ch in "|: \t\r\n=")


def test_escape_is_injective_on_distinct_values() -> None:
    values = [v for v in HOSTILE if v.strip()]
    escaped = {escape(v, fold_case=False) for v in values}
    assert len(escaped) == len(set(v.strip() for v in values))


def test_long_values_are_bounded_but_stay_distinct() -> None:
    a, b = "x" * 500 + "a", "x" * 500 + "b"
    assert len(escape(a)) <= MAX_TOKEN_CHARS
    assert escape(a) != escape(b)


NON_BLANK = [v for v in HOSTILE if v.strip()]


@pytest.mark.parametrize("value", NON_BLANK)
def test_hostile_product_values_yield_exactly_the_expected_features(
    workspace: Workspace, value: str
) -> None:
    action = ActionFeatures(
        action_id=f"id-{value}",
        category=value,
        brand=value,
        features={value: value, "ok": "fine"},
    )
    (line,) = FeatureEncoder().action_lines(ContextFeatures(), [action])
    counts = _namespaces(workspace, line)
    # I: the id; K: category + brand; P: AR flag + the two features; N: age bucket.
    assert counts == {"I": 1, "K": 2, "P": 3, "N": 1}


@pytest.mark.parametrize("value", NON_BLANK)
def test_hostile_context_values_yield_exactly_the_expected_features(
    workspace: Workspace, value: str
) -> None:
    context = ContextFeatures(
        user_id=value,
        device=value,
        page=value,
        preferences={"favourite_categories": [value], value: value},
        recent_categories=[value],
        viewed_category=value,
        features={value: [value, value + "2"]},
    )
    line = FeatureEncoder().shared_line(context, slot=1)
    counts = _namespaces(workspace, line)
    assert counts == {"U": 2, "Q": 1, "W": 1, "C": 2, "V": 1, "X": 2, "S": 1}


@pytest.mark.parametrize("value", ["", "   ", "\n", "\t \r"])
def test_blank_values_are_dropped(workspace: Workspace, value: str) -> None:
    context = ContextFeatures(user_id=value, device=value, preferences={"k": value})
    assert FeatureEncoder().shared_line(context) == "shared |Q profile=empty"
    action = ActionFeatures(action_id="p", category=value, features={"k": value})
    counts = _namespaces(workspace, FeatureEncoder().static_action_line(action))
    assert counts == {"I": 1, "P": 1, "N": 1}


def test_free_features_are_bounded_and_deterministic() -> None:
    huge = {f"key{i}": i * 1.5 for i in range(10_000)}
    huge["nested"] = {"a": {"b": {"c": {"d": {"e": 1}}}}}
    huge["list"] = list(range(1000))
    tokens = flatten(huge, max_tokens=32)
    assert len(tokens) == 32
    assert tokens == flatten(dict(reversed(list(huge.items()))), max_tokens=32)
    assert all(len(t) <= 2 * MAX_TOKEN_CHARS + 1 for t in tokens)


def test_non_finite_and_null_values_are_dropped() -> None:
    action = ActionFeatures(
        action_id=1,
        price=float("nan"),
        popularity=float("inf"),
        created_days_ago=float("nan"),
        features={"a": None, "b": float("nan"), "c": math.inf},
    )
    line = FeatureEncoder().static_action_line(action)
    assert "nan" not in line and "inf" not in line
    assert action.feature_tokens == ()


def test_cold_start_context_still_encodes() -> None:
    line = FeatureEncoder().shared_line(ContextFeatures())
    assert line == "shared |Q profile=empty"


def test_context_tokens_cover_time_device_page_and_viewed_product() -> None:
    context = ContextFeatures(
        user_id=42,
        timestamp=datetime(2024, 6, 1, 20, 30, tzinfo=UTC),  # a Saturday evening
        device="Mobile",
        page="home",
        preferences={"favourite_categories": ["Shoes"], "size": 42},
        recent_categories=["bags"],
        viewed_category="Shoes",
        viewed_brand="Acme",
    )
    line = FeatureEncoder().shared_line(context, slot=2)
    for expected in (
        "fav_cat=shoes",
        "recent_cat=bags",
        "|Q size=b5",
        "user=42",
        "device=mobile",
        "tod=evening",
        "week=end",
        "|V cat=shoes brand=acme",
        "|S slot=2",
    ):
        assert expected in line


def test_match_features_compare_case_insensitively() -> None:
    context = ContextFeatures(
        preferences={"favourite_categories": ["SHOES"], "favourite_brands": "Acme"},
        recent_categories=["bags"],
        viewed_category="shoes",
    )
    shoes = ActionFeatures(action_id="s", category="Shoes", brand="acme")
    bag = ActionFeatures(action_id="b", category="bags", brand="other")
    shoe_line, bag_line = FeatureEncoder().action_lines(context, [shoes, bag])
    assert shoe_line.endswith("|M cat_fav cat_top cat_viewed brand_fav")
    assert bag_line.endswith("|M cat_recent")


def test_what_the_shopper_turned_down_is_marked() -> None:
    context = ContextFeatures(
        recent_categories=["bags"],
        disliked_categories=["Shoes"],
        disliked_brands=["ACME"],
        disliked_items=[7, True],  # a boolean is no product id
    )
    crossed = ActionFeatures(action_id=7, category="shoes", brand="Acme")
    other_shoe = ActionFeatures(action_id=8, category="Shoes", brand="Other")
    other_brand = ActionFeatures(action_id=1, category="bags", brand="acme")
    lines = FeatureEncoder().action_lines(context, [crossed, other_shoe, other_brand])
    assert lines[0].endswith("|M cat_crossed brand_crossed item_crossed")
    assert lines[1].endswith("|M cat_crossed")
    assert lines[2].endswith("|M cat_recent brand_crossed")


@pytest.mark.parametrize(
    ("preferences", "categories"),
    [
        ({"favourite_categories": ["Shoes", 3, "Bags"]}, ["Shoes", "3", "Bags"]),
        ({"favourite_categories": "Shoes", "categories": ["Bags"]}, ["Shoes"]),
        # The first key present wins, whatever its type: a profile is not merged from two.
        ({"favorite_categories": 5, "categories": ["Bags"]}, []),
        ({"categories": [f"c{i}" for i in range(40)]}, [f"c{i}" for i in range(16)]),
        (["not", "a", "dict"], []),
    ],
)
def test_one_reader_of_the_favourite_keys(preferences, categories) -> None:
    """The learner's features and candidate generation read favourites the same way."""
    assert favourite_categories(preferences) == categories
    context = ContextFeatures(preferences=preferences if isinstance(preferences, dict) else {})
    line = FeatureEncoder().shared_line(context)
    assert all(f"fav_cat={c.lower()}" in line for c in categories)


def test_preference_values_matching_product_features_are_counted() -> None:
    context = ContextFeatures(preferences={"styles": ["Sport", "street"], "newsletter": True})
    sporty = ActionFeatures(action_id="a", features={"style": ["sport", "street"], "eco": True})
    plain = ActionFeatures(action_id="b", features={"style": "classic", "eco": True})
    sporty_line, plain_line = FeatureEncoder().action_lines(context, [sporty, plain])
    assert sporty_line.endswith("|M pref_overlap:2")
    assert "|M" not in plain_line  # "true" matching "true" is not a taste


def test_price_bands_are_log_scale() -> None:
    assert price_band(10.0) == price_band(11.0)
    assert price_band(10.0) != price_band(20.0)
    assert price_band(100.0) != price_band(1000.0)
    assert price_band(0) == "zero"
    assert price_band(None) is None


def test_action_features_are_hashable_and_compare_by_content() -> None:
    a = ActionFeatures(action_id=1, category="x", features={"a": 1, "b": [1, 2]})
    b = ActionFeatures(action_id=1, category="x", features={"b": [1, 2], "a": 1})
    c = ActionFeatures(action_id=1, category="x", features={"a": 2})
    assert a == b and hash(a) == hash(b)
    assert a != c


@pytest.mark.parametrize("bad_id", ["", "   ", None, True, 1.5])
def test_blank_or_odd_action_ids_are_rejected(bad_id: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        ActionFeatures(action_id=bad_id)  # type: ignore[arg-type]


def test_action_ids_keep_their_case() -> None:
    encoder = FeatureEncoder()
    upper = encoder.static_action_line(ActionFeatures(action_id="SKU-A"))
    lower = encoder.static_action_line(ActionFeatures(action_id="sku-a"))
    assert upper != lower
