"""Feature encoding: shopper context and product features to VW `cb_explore_adf` lines.

Namespaces (VW keys interactions on the first letter of a namespace):

Shared (context) side
    U  favourites and recent interest: favourite categories/brands (read from the
       preferences JSON), recently engaged categories.
    Q  the rest of the stated preferences, flattened (e.g. `price=mid`, `styles=sport`);
       `profile=empty` marks a shopper we know nothing about, so the Q crosses learn
       what to show cold-start shoppers.
    W  user identity (`user=<id>`): lets the model memorise individual tastes.
    C  session: time-of-day bucket, weekday/weekend, device, page.
    V  the product being viewed (category, brand), when there is one.
    X  free `features` dict, flattened and bounded.
    S  slot (learning examples only): absorbs position bias in the reward regression.
Action (product) side
    I  product identity (`id=<id>`): per-product appeal.
    K  product kind: category and brand.
    P  product properties: log-scale price band, AR availability, flattened `features`.
    N  popularity (log2 bucket plus log1p numeric) and age bucket, so new products get a
       learnt "newness" prior instead of looking like unknown ids.
    M  match features computed against the context: the category is a favourite / the
       top favourite / of recent interest / the viewed one / one the shopper has lately
       turned down, the brand is a favourite / the viewed one / turned down, the product
       itself was turned down, and how many product feature values the shopper's
       preferences mention. They generalise from the first clicks (and crosses) to pairs
       the model has never seen.

Context namespaces are constant across the actions of one decision, so on their own they
cannot change a ranking; personalisation comes from M and from the quadratic interactions
in `LearnerConfig.interactions` (default `QP CP WK MN MP`; the learner docs explain the
choice and the simulator measurements behind it).

All values go through `bandit.tokens.escape`, and every namespace is bounded, so hostile or
huge inputs cannot break the line format or inject features.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from bandit.tokens import escape, flatten, log2_bucket, token

ActionId = str | int

MAX_CONTEXT_LIST = 16  # favourites / recent categories kept
MAX_DISLIKED_ITEMS = 64  # turned-down products kept
MAX_FREE_FEATURES = 32  # tokens from a free-form dict
MAX_PRODUCT_FEATURES = 24  # tokens from a product's `features` JSON

# Keys of the user `preferences` JSON read as favourites (first match wins per kind).
FAVOURITE_CATEGORY_KEYS = ("favourite_categories", "favorite_categories", "categories")
FAVOURITE_BRAND_KEYS = ("favourite_brands", "favorite_brands", "brands")
_FAVOURITE_KEYS = frozenset(FAVOURITE_CATEGORY_KEYS + FAVOURITE_BRAND_KEYS)
# Flattened values too generic to signal a taste when they match.
_NON_TASTE = frozenset({"true", "false", "zero", "lt1"})


@dataclass(frozen=True)
class ContextFeatures:
    """What is known about the shopper and the request. Every field is optional.

    `preferences` is the user's preference JSON; favourites are read from the keys in
    `FAVOURITE_CATEGORY_KEYS` / `FAVOURITE_BRAND_KEYS` (a string or a list of strings) and
    the whole dict is also flattened into the profile namespace.
    """

    user_id: str | int | None = None
    timestamp: datetime | None = None
    device: str | None = None
    page: str | None = None
    preferences: Mapping[str, Any] = field(default_factory=dict)
    recent_categories: Sequence[str] = ()
    viewed_category: str | None = None
    viewed_brand: str | None = None
    features: Mapping[str, Any] = field(default_factory=dict)
    # What the shopper has lately turned down (the app decides what counts: crosses
    # outweighing interest). Products, and more weakly their categories and brands.
    disliked_categories: Sequence[str] = ()
    disliked_brands: Sequence[str] = ()
    disliked_items: Sequence[ActionId] = ()


@dataclass(frozen=True)
class ActionFeatures:
    """A candidate product. Immutable and hashable: build it once per product version.

    `features` (the product's JSON) is flattened into `feature_tokens` at construction;
    equality and hashing use the tokens, which lets the encoder cache each product's
    static line (flattening is the costly part of encoding).
    """

    action_id: ActionId
    category: str | None = None
    brand: str | None = None
    price: Decimal | float | None = None
    features: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    popularity: float | None = None
    created_days_ago: float | None = None
    ar_enabled: bool = False
    feature_tokens: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        if isinstance(self.action_id, bool) or not isinstance(self.action_id, str | int):
            raise TypeError(f"action_id must be a str or int, got {self.action_id!r}")
        if isinstance(self.action_id, str) and not escape(self.action_id, fold_case=False):
            raise ValueError("action_id must not be blank")
        tokens = flatten(self.features, max_tokens=MAX_PRODUCT_FEATURES)
        object.__setattr__(self, "feature_tokens", tuple(tokens))

    def with_state(
        self,
        *,
        price: Decimal | float | None,
        popularity: float | None,
        created_days_ago: float | None,
    ) -> ActionFeatures:
        """This product with other values of its changing features (as logged with a past
        decision), reusing the flattened `features` instead of flattening them again."""
        clone = object.__new__(ActionFeatures)
        # One dict copy instead of a setattr per field: replaying a logged decision clones
        # every candidate (150 per slate), so this is on the learner's hot path.
        object.__setattr__(
            clone,
            "__dict__",
            {
                **self.__dict__,
                "price": price,
                "popularity": popularity,
                "created_days_ago": created_days_ago,
            },
        )
        return clone


@dataclass(frozen=True)
class _ContextKeys:
    """Escaped context values that action-side match features compare against."""

    top_category: str
    favourite_categories: frozenset[str]
    favourite_brands: frozenset[str]
    recent_categories: frozenset[str]
    viewed_category: str
    viewed_brand: str
    preference_values: frozenset[str]
    disliked_categories: frozenset[str]
    disliked_brands: frozenset[str]
    disliked_items: frozenset[ActionId]


@dataclass(frozen=True)
class _StaticAction:
    """Cached, context-independent encoding of one product."""

    line: str
    category: str
    brand: str
    feature_values: frozenset[str]


def time_of_day(hour: int) -> str:
    """Coarse shopping-time bucket; finer buckets split too little data to help."""
    if hour < 6:
        return "night"
    if hour < 12:
        return "morning"
    if hour < 18:
        return "afternoon"
    return "evening"


def price_band(price: Decimal | float | None) -> str | None:
    """Half-octave log2 price band: a 10% price change rarely moves a product across bands."""
    if price is None:
        return None
    return log2_bucket(float(price), steps_per_octave=1)


def age_band(days: float | None) -> str | None:
    """Product age bucket; `new` is what exploration of fresh products keys on."""
    if days is None or not math.isfinite(days):
        return None
    for limit, name in ((7, "new"), (30, "month"), (90, "quarter"), (365, "year")):
        if days < limit:
            return name
    return "old"


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple | set | frozenset):
        kept = (str(v) for v in value if isinstance(v, str | int) and not isinstance(v, bool))
        return list(itertools.islice(kept, MAX_CONTEXT_LIST))
    return []


def _mapping(value: Any) -> Mapping[str, Any]:
    """Untrusted JSON may hold a list or a string where a dict is expected: ignore it."""
    return value if isinstance(value, Mapping) else {}


def _first_present(preferences: Mapping[str, Any], keys: Sequence[str]) -> list[str]:
    for key in keys:
        if key in preferences:
            return _strings(preferences[key])
    return []


def favourite_categories(preferences: Any) -> list[str]:
    """The favourite categories a preferences JSON states: the first of
    `FAVOURITE_CATEGORY_KEYS` present, a string or a list (at most `MAX_CONTEXT_LIST`).
    The one reader of these keys, for the learner and for candidate generation alike."""
    return _first_present(_mapping(preferences), FAVOURITE_CATEGORY_KEYS)


def favourite_brands(preferences: Any) -> list[str]:
    """As `favourite_categories`, for `FAVOURITE_BRAND_KEYS`."""
    return _first_present(_mapping(preferences), FAVOURITE_BRAND_KEYS)


def _namespace(name: str, tokens: Sequence[str | None]) -> str:
    kept = [t for t in tokens if t]
    return f"|{name} {' '.join(kept)}" if kept else ""


class FeatureEncoder:
    """Turns `ContextFeatures` / `ActionFeatures` into VW text lines.

    Stateless apart from a bounded cache of per-product static lines, so one encoder can
    be shared by everything that talks to one learner.
    """

    def __init__(self, *, cache_size: int = 50_000) -> None:
        self._cache_size = cache_size
        self._static: dict[ActionFeatures, _StaticAction] = {}

    # -- shared side -------------------------------------------------------------------
    def shared_line(self, context: ContextFeatures, slot: int | None = None) -> str:
        """The `shared` line for a decision; `slot` is added only to learning examples."""
        favourites = [t for t in self._favourite_tokens(context) if t]
        preferences = self._preference_tokens(context)
        if not favourites and not preferences:
            # Lets the Q x product crosses learn what to show shoppers we know nothing about.
            preferences = ["profile=empty"]
        parts = [
            "shared",
            _namespace("U", favourites),
            _namespace("Q", preferences),
            _namespace(
                "W",
                [token("user", context.user_id, fold_case=False)]
                if context.user_id is not None
                else [],
            ),
            _namespace("C", self._session_tokens(context)),
            _namespace(
                "V",
                [token("cat", context.viewed_category), token("brand", context.viewed_brand)]
                if context.viewed_category or context.viewed_brand
                else [],
            ),
            _namespace("X", flatten(_mapping(context.features), max_tokens=MAX_FREE_FEATURES)),
            _namespace("S", [f"slot={int(slot)}"] if slot is not None else []),
        ]
        return " ".join(p for p in parts if p)

    @staticmethod
    def _favourite_tokens(context: ContextFeatures) -> list[str | None]:
        tokens: list[str | None] = []
        tokens += [token("fav_cat", c) for c in favourite_categories(context.preferences)]
        tokens += [token("fav_brand", b) for b in favourite_brands(context.preferences)]
        tokens += [token("recent_cat", c) for c in _strings(context.recent_categories)]
        return tokens

    @staticmethod
    def _preference_tokens(context: ContextFeatures) -> list[str]:
        prefs = _mapping(context.preferences)
        # Favourites are in U (and in the match features); repeating them here would
        # only add redundant crosses.
        rest = {k: v for k, v in prefs.items() if k not in _FAVOURITE_KEYS}
        return flatten(rest, max_tokens=MAX_FREE_FEATURES)

    @staticmethod
    def _session_tokens(context: ContextFeatures) -> list[str | None]:
        tokens: list[str | None] = [token("device", context.device), token("page", context.page)]
        if context.timestamp is not None:
            ts = context.timestamp
            tokens.append(f"tod={time_of_day(ts.hour)}")
            tokens.append("week=end" if ts.weekday() >= 5 else "week=day")
        return [t for t in tokens if t]

    def context_keys(self, context: ContextFeatures) -> _ContextKeys:
        """Escaped favourites / recent / viewed values, computed once per decision."""
        prefs = _mapping(context.preferences)
        categories = [escape(c) for c in favourite_categories(prefs)]
        rest = {k: v for k, v in prefs.items() if k not in _FAVOURITE_KEYS}
        return _ContextKeys(
            top_category=categories[0] if categories else "",
            favourite_categories=frozenset(categories),
            favourite_brands=frozenset(escape(b) for b in favourite_brands(prefs)),
            recent_categories=frozenset(escape(c) for c in _strings(context.recent_categories)),
            viewed_category=escape(context.viewed_category or ""),
            viewed_brand=escape(context.viewed_brand or ""),
            preference_values=_token_values(flatten(rest, max_tokens=MAX_FREE_FEATURES)),
            disliked_categories=frozenset(escape(c) for c in _strings(context.disliked_categories)),
            disliked_brands=frozenset(escape(b) for b in _strings(context.disliked_brands)),
            disliked_items=frozenset(_ids(context.disliked_items)),
        )

    # -- action side -------------------------------------------------------------------
    def action_lines(
        self,
        context: ContextFeatures,
        actions: Sequence[ActionFeatures],
        *,
        labels: Mapping[int, str] | None = None,
    ) -> list[str]:
        """One line per action; `labels` maps an index to a `0:cost:prob` CB label."""
        keys = self.context_keys(context)
        lines = []
        for index, action in enumerate(actions):
            static = self._static_action(action)
            line = static.line
            matches = _match_tokens(static, keys)
            if action.action_id in keys.disliked_items:
                matches.append("item_crossed")
            if matches:
                line = f"{line} |M {' '.join(matches)}"
            if labels and index in labels:
                line = f"{labels[index]} {line}"
            lines.append(line)
        return lines

    def static_action_line(self, action: ActionFeatures) -> str:
        """The context-independent part of an action line (cached per product)."""
        return self._static_action(action).line

    def _static_action(self, action: ActionFeatures) -> _StaticAction:
        static = self._static.get(action)
        if static is None:
            static = _StaticAction(
                line=self._encode_static(action),
                category=escape(action.category) if action.category else "",
                brand=escape(action.brand) if action.brand else "",
                feature_values=_token_values(action.feature_tokens),
            )
            if len(self._static) >= self._cache_size:
                # Dropping everything is crude but bounded and O(1) amortised; the
                # working set refills within a few requests.
                self._static.clear()
            self._static[action] = static
        return static

    @staticmethod
    def _encode_static(action: ActionFeatures) -> str:
        kind = [
            token("cat", action.category) if action.category else None,
            token("brand", action.brand) if action.brand else None,
        ]
        band = price_band(action.price)
        properties = [f"price={band}" if band else None, "ar=yes" if action.ar_enabled else "ar=no"]
        properties += [f"f.{t}" for t in action.feature_tokens]
        lifecycle = []
        if action.popularity is not None:
            pop = log2_bucket(float(action.popularity) + 1.0)
            lifecycle.append(f"pop={pop}" if pop else None)
            if pop:
                # Also as one numeric feature: lets a single weight carry the trend
                # across buckets, which the sparse bucket tokens learn slowly.
                lifecycle.append(f"pop_log:{math.log1p(float(action.popularity)):.4f}")
        age = age_band(action.created_days_ago)
        lifecycle.append(f"age={age}" if age else "age=unknown")
        parts = [
            _namespace("I", [token("id", action.action_id, fold_case=False)]),
            _namespace("K", kind),
            _namespace("P", properties),
            _namespace("N", lifecycle),
        ]
        return " ".join(p for p in parts if p)


def _ids(value: Any) -> list[ActionId]:
    """Product ids from untrusted input: strings and integers (not booleans), bounded."""
    if not isinstance(value, list | tuple | set | frozenset):
        return []
    kept = (v for v in value if isinstance(v, str | int) and not isinstance(v, bool))
    return list(itertools.islice(kept, MAX_DISLIKED_ITEMS))


def _token_values(tokens: Sequence[str]) -> frozenset[str]:
    """The value parts of `key=value` tokens (numbers excluded: "size=9" is no taste)."""
    values = (t.partition("=")[2] for t in tokens)
    return frozenset(v for v in values if v and not v[0].isdigit() and v not in _NON_TASTE)


def _match_tokens(static: _StaticAction, keys: _ContextKeys) -> list[str]:
    matches = []
    if static.category:
        if static.category in keys.favourite_categories:
            matches.append("cat_fav")
            if static.category == keys.top_category:
                matches.append("cat_top")
        if static.category in keys.recent_categories:
            matches.append("cat_recent")
        if static.category == keys.viewed_category:
            matches.append("cat_viewed")
        if static.category in keys.disliked_categories:
            matches.append("cat_crossed")
    if static.brand:
        if static.brand in keys.favourite_brands:
            matches.append("brand_fav")
        if static.brand == keys.viewed_brand:
            matches.append("brand_viewed")
        if static.brand in keys.disliked_brands:
            matches.append("brand_crossed")
    # A product property the shopper says they like (e.g. preferences {"styles": ["sport"]}
    # and product features {"style": "sport"}), whatever the JSON keys are called.
    overlap = len(static.feature_values & keys.preference_values)
    if overlap:
        matches.append(f"pref_overlap:{min(overlap, 3)}")
    return matches
