"""Deciding a slate: candidates, the shopper's context, ranking on this process's model,
and the decision logged for learning and evaluation."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bandit.features import (
    FAVOURITE_BRAND_KEYS,
    FAVOURITE_CATEGORY_KEYS,
    ActionFeatures,
    ContextFeatures,
)
from core import metrics
from core.errors import DomainError, ErrorCode
from models import Product
from services.auth import Viewer
from services.recommendations.decisions import Decision, loggable
from services.recommendations.request import RecommendationRequest, recent_categories
from services.recommendations.runtime import RecommenderRuntime


async def recommendations(
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
    else:
        candidates = [loggable(c) for c in candidates]  # as the log can record them exactly
    if not candidates:
        raise DomainError(ErrorCode.NOT_FOUND, "No products are available to recommend")
    slate = await runtime.rank(context, candidates, request.k, seed=rng.getrandbits(64))
    decision = Decision(
        event_id=uuid.uuid4().hex,
        user_id=viewer.user_id,
        session_id=session_id,
        context=context,
        candidates=tuple(candidates),
        slate=slate,
        created_at=context.timestamp,
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
