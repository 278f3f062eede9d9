"""Recommendation business rules: what a request may ask, the shopper context the learner
sees, deciding a slate, and which rewards count as feedback on which decision."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bandit.features import (
    FAVOURITE_BRAND_KEYS,
    FAVOURITE_CATEGORY_KEYS,
    ActionFeatures,
    ContextFeatures,
)
from core import metrics
from core.errors import DomainError, ErrorCode, InvalidInput
from core.json_values import json_object
from models import Product, RecommendationEvent, UserInteraction
from services.auth import Viewer
from services.recommender import Decision, RecommenderRuntime

MAX_SLATE = 50
# One size for every free-form context object a shopper sends: recommendation features and
# interaction context.
MAX_CONTEXT_BYTES = 4096
MAX_TEXT = 64
RECENT_INTERACTIONS = 20


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


async def recent_categories(
    runtime: RecommenderRuntime, *, user_id: int | None, session_id: str | None
) -> list[str]:
    """Categories of the shopper's latest interactions, newest first, without repeats.

    Cached for a few seconds per shopper (a feature may lag that much; `record_feedback`
    refreshes it at once for the shopper who just interacted)."""
    if user_id is None and session_id is None:
        return []
    key = shopper_key(user_id, session_id)
    cached = runtime.recent_categories.get(key)
    if cached is not None:
        return cached
    categories = await _load_recent_categories(runtime, user_id=user_id, session_id=session_id)
    runtime.recent_categories.put(key, categories)
    return categories


async def _load_recent_categories(
    runtime: RecommenderRuntime, *, user_id: int | None, session_id: str | None
) -> list[str]:
    query = UserInteraction.filter(user_id=user_id) if user_id is not None else (
        UserInteraction.filter(session_id=session_id, user_id=None)
    )  # fmt: skip
    product_ids = (
        await query.order_by("-id").limit(RECENT_INTERACTIONS).values_list("product_id", flat=True)
    )
    products = runtime.catalog.index.products
    categories: dict[str, None] = {}
    missing = [pid for pid in product_ids if pid not in products]
    known = {p.id: p.category for p in await Product.filter(id__in=missing)} if missing else {}
    for pid in product_ids:
        category = products[pid].category if pid in products else known.get(pid)
        if category:
            categories.setdefault(category, None)
    return list(categories)


async def recommend(
    runtime: RecommenderRuntime,
    viewer: Viewer,
    request: RecommendationRequest,
    *,
    candidates: Sequence[ActionFeatures] | None = None,
) -> tuple[Decision, list[Product]]:
    """Decide a slate for the viewer and log it. Returns the decision and its products.

    `candidates` replaces candidate generation (simulations and replays rank a given set).
    """
    started = time.perf_counter()
    user = viewer.user
    index = runtime.catalog.index
    viewed = index.products.get(request.product_id) if request.product_id is not None else None
    if (
        request.product_id is not None
        and viewed is None
        and not await Product.exists(id=request.product_id)
    ):
        raise DomainError(
            ErrorCode.PRODUCT_NOT_FOUND, "No product with this id", field="context.productId"
        )
    preferences = dict(user.preferences) if user is not None and user.preferences else {}
    session_id = request.session_id
    recent = await recent_categories(runtime, user_id=viewer.user_id, session_id=session_id)
    context = ContextFeatures(
        user_id=viewer.user_id,
        timestamp=datetime.now(UTC),
        device=request.device,
        page=request.page,
        preferences=preferences,
        recent_categories=tuple(recent),
        viewed_category=viewed.category if viewed else None,
        viewed_brand=viewed.brand if viewed else None,
        features=request.features,
    )
    rng = random.Random()
    # The same preference keys the learner reads its favourites from.
    favourite_categories = _first_strings(preferences, FAVOURITE_CATEGORY_KEYS)
    favourite_brands = _first_strings(preferences, FAVOURITE_BRAND_KEYS)
    if candidates is None:
        candidates = index.candidates(
            limit=runtime.settings.recommendation_candidates,
            rng=rng,
            viewed=request.product_id,
            categories=[*recent[:3], *favourite_categories],
            brands=favourite_brands,
        )
    if not candidates:
        raise DomainError(ErrorCode.NOT_FOUND, "No products are available to recommend")
    slate = runtime.learner.rank(context, candidates, request.k, seed=rng.getrandbits(64))
    decision = Decision(
        event_id=uuid.uuid4().hex,
        user_id=viewer.user_id,
        session_id=session_id,
        context=context,
        candidates=tuple(candidates),
        slate=slate,
    )
    runtime.decisions.record(decision)
    metrics.record_recommendation_decision()
    metrics.RECOMMENDATION_LATENCY.observe(time.perf_counter() - started)
    chosen = [item.action_id for item in slate.items]
    if any(product_id not in index.products for product_id in chosen):
        found = {p.id: p for p in await Product.filter(id__in=chosen)}
        return decision, [index.products.get(i) or found[i] for i in chosen]
    return decision, [index.products[i] for i in chosen]


def _first_strings(preferences: dict[str, Any], keys: Sequence[str]) -> list[str]:
    """The first of `keys` present in the preferences, as a list of strings (at most 10)."""
    for key in keys:
        value = preferences.get(key)
        if isinstance(value, str):
            return [value]
        if isinstance(value, list):
            return [v for v in value if isinstance(v, str)][:10]
    return []


def _shown_to(event: RecommendationEvent, *, user_id: int | None, session_id: str | None) -> bool:
    """A signed-in shopper's slate answers to that account only; an anonymous slate to an
    anonymous shopper with the same session (a signed-in user sending someone's session id
    must not reward their slates)."""
    if event.user_id is not None:
        return event.user_id == user_id
    return user_id is None and event.session_id is not None and event.session_id == session_id


@dataclass(frozen=True)
class RewardTarget:
    """The logged decision a reward applies to, and the recommended item's place in it."""

    event_pk: int
    event_id: str
    slot: int
    probability: float

    def as_context(self) -> dict[str, str]:
        """What an interaction keeps of the recommendation it is credited to."""
        return {"eventId": self.event_id}


async def reward_target(
    runtime: RecommenderRuntime,
    *,
    event_id: str,
    product_id: int,
    user_id: int | None,
    session_id: str | None,
) -> RewardTarget:
    """Check that `event_id` is a decision shown to this shopper that recommended
    `product_id`. Unknown, foreign and mismatched events look the same to the caller."""
    unknown = DomainError(
        ErrorCode.UNKNOWN_EVENT,
        "Unknown recommendation event for this shopper and product",
        field="eventId",
    )
    if len(event_id) > 36:
        raise unknown
    await runtime.decisions.ensure_written(event_id)
    decision = runtime.decisions.recent(event_id)
    event = await RecommendationEvent.get_or_none(event_id=event_id)
    if event is None:
        raise unknown
    if not _shown_to(event, user_id=user_id, session_id=session_id):
        raise unknown
    items = decision.slate.items if decision else None
    if items is not None:
        match = next((i for i in items if i.action_id == product_id), None)
        if match is None:
            raise unknown
        return RewardTarget(event.id, event_id, match.slot, match.probability)
    for item in event.items:
        if item["productId"] == product_id:
            return RewardTarget(event.id, event_id, item["slot"], item["probability"])
    raise unknown


async def credited_targets(lines: Sequence[tuple[int, int]]) -> dict[tuple[int, int], RewardTarget]:
    """For (decision pk, product id) pairs remembered by cart lines, the decisions' targets.

    Pairs whose decision is gone (purged) or did not show the product are left out."""
    events = {e.id: e for e in await RecommendationEvent.filter(id__in={pk for pk, _ in lines})}
    found: dict[tuple[int, int], RewardTarget] = {}
    for pk, product_id in lines:
        event = events.get(pk)
        item = (
            next((i for i in event.items if i["productId"] == product_id), None) if event else None
        )
        if event is not None and item is not None:
            found[(pk, product_id)] = RewardTarget(
                pk, event.event_id, item["slot"], item["probability"]
            )
    return found
