"""A recommendation request: what a request may ask, and the shopper context read for it
(interests and dislikes from the shopper's latest signals, cached a few seconds per
shopper)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.errors import InvalidInput
from core.json_values import json_object
from models import Product, UserInteraction
from models.interaction import InteractionAction
from services.recommendations.rewards import ACTION_RULES, Meaning

if TYPE_CHECKING:
    from services.recommendations.runtime import RecommenderRuntime

MAX_SLATE = 50
# One size for every free-form context object a shopper sends: recommendation features and
# interaction context.
MAX_CONTEXT_BYTES = 4096
MAX_TEXT = 64
# How many of the shopper's latest signals (impressions aside) their features are read from.
RECENT_SIGNALS = 50
# How many of a category's (brand's) products a shopper must turn down, liking none, for it
# to count as disliked.
DISLIKED_AFTER = 2
SIGNAL_ACTIONS = [
    action.value for action, rule in ACTION_RULES.items() if rule.meaning is not Meaning.IMPRESSION
]


@dataclass(frozen=True)
class RecommendationRequest:
    k: int = 10
    page: str | None = None
    device: str | None = None
    product_id: int | None = None
    session_id: str | None = None
    features: dict[str, Any] = field(default_factory=dict)


def _text(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"`{name}` is limited to {MAX_TEXT} characters", field=f"context.{name}")
    return value or None


def validate_request(
    *,
    first: int,
    page: str | None = None,
    device: str | None = None,
    product_id: int | None = None,
    session_id: str | None = None,
    features: Any = None,
) -> RecommendationRequest:
    if not 1 <= first <= MAX_SLATE:
        raise InvalidInput(f"`first` must be between 1 and {MAX_SLATE}", field="first")
    features = json_object(features, field="context.features", max_bytes=MAX_CONTEXT_BYTES)
    return RecommendationRequest(
        k=first,
        page=_text(page, "page"),
        device=_text(device, "device"),
        product_id=product_id,
        session_id=_text(session_id, "sessionId"),
        features=features,
    )


def shopper_key(user_id: int | None, session_id: str | None) -> tuple[int | None, str | None]:
    """Who the shopper is: the account when signed in, else the anonymous session."""
    return (user_id, None) if user_id is not None else (None, session_id)


@dataclass(frozen=True)
class ShopperSignals:
    """What a shopper's own latest signals say, for the learner's context and for
    candidate generation (the rules: `rewards.ACTION_RULES` and its docstring)."""

    # Categories of recent interest, newest first.
    interests: tuple[str, ...] = ()
    disliked_categories: tuple[str, ...] = ()
    disliked_brands: tuple[str, ...] = ()
    # Products whose latest signal turned them down, newest first.
    disliked_items: tuple[int, ...] = ()


NO_SIGNALS = ShopperSignals()


async def shopper_signals(
    runtime: RecommenderRuntime, *, user_id: int | None, session_id: str | None
) -> ShopperSignals:
    """The shopper's interests and dislikes from their latest signals.

    Cached for a few seconds per shopper (a feature may lag that much;
    `feedback.record_interaction` refreshes it at once for the shopper who just interacted)."""
    if user_id is None and session_id is None:
        return NO_SIGNALS
    key = shopper_key(user_id, session_id)
    cached = runtime.shopper_signals.get(key)
    if cached is not None:
        return cached
    signals = await _load_signals(runtime, user_id=user_id, session_id=session_id)
    runtime.shopper_signals.put(key, signals)
    return signals


async def _load_signals(
    runtime: RecommenderRuntime, *, user_id: int | None, session_id: str | None
) -> ShopperSignals:
    query = UserInteraction.filter(user_id=user_id) if user_id is not None else (
        UserInteraction.filter(session_id=session_id, user_id=None)
    )  # fmt: skip
    # Impressions say nothing about taste; leaving them out of the query also keeps a run of
    # views from pushing the shopper's real signals out of the window.
    rows = (
        await query.filter(action__in=SIGNAL_ACTIONS)
        .order_by("-id")
        .limit(RECENT_SIGNALS)
        .values_list("product_id", "action")
    )
    products = runtime.catalog.index.products
    missing = {pid for pid, _ in rows if pid not in products}
    known = {p.id: p for p in await Product.filter(id__in=missing)} if missing else {}
    latest = latest_meanings(rows)
    return summarise(
        [
            (pid, meaning, product.category, product.brand)
            for pid, meaning in latest
            if (product := products.get(pid) or known.get(pid)) is not None
        ]
    )


def latest_meanings(rows: Sequence[tuple[int, str]]) -> list[tuple[int, Meaning]]:
    """Per product, newest first, the meaning of its newest signal: a later action on the
    same item overrides an earlier one (a cross after a tick is a change of mind, a cart add
    after a cross too)."""
    latest: dict[int, Meaning] = {}
    for product_id, action in rows:
        latest.setdefault(product_id, ACTION_RULES[InteractionAction(action)].meaning)
    return list(latest.items())


def summarise(items: Sequence[tuple[int, Meaning, str | None, str | None]]) -> ShopperSignals:
    """Interests and dislikes from (product, meaning, category, brand), newest first.

    A category is of interest when the shopper showed interest in any of its products. A
    category (brand) is disliked only when they turned down at least `DISLIKED_AFTER` of its
    products and liked none: a shopper who likes some sneakers and crosses the rest still
    likes sneakers (the crossed ones are steered away from one by one)."""
    liked: dict[tuple[str, str], None] = {}
    crossed: dict[tuple[str, str], int] = {}
    for _, meaning, category, brand in items:
        for key in (("category", category), ("brand", brand)):
            if not key[1]:
                continue
            if meaning is Meaning.INTEREST:
                liked.setdefault(key, None)
            else:
                crossed[key] = crossed.get(key, 0) + 1

    def disliked(kind: str) -> tuple[str, ...]:
        return tuple(
            name
            for (of, name), count in crossed.items()
            if of == kind and count >= DISLIKED_AFTER and (of, name) not in liked
        )

    return ShopperSignals(
        interests=tuple(name for of, name in liked if of == "category"),
        disliked_categories=disliked("category"),
        disliked_brands=disliked("brand"),
        disliked_items=tuple(pid for pid, meaning, _, _ in items if meaning is Meaning.DISINTEREST),
    )
