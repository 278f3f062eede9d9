"""Deciding a slate: candidates, the shopper's context, ranking on this process's model,
and the decision logged for learning and evaluation."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from bandit.features import (
    ActionFeatures,
    ContextFeatures,
    favourite_brands,
    favourite_categories,
)
from core import metrics
from core.errors import DomainError, ErrorCode
from models import Product
from services.auth import Viewer
from services.recommendations.decisions import Decision, loggable
from services.recommendations.request import RecommendationRequest, shopper_signals
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
    signals = await shopper_signals(runtime, user_id=viewer.user_id, session_id=session_id)
    context = ContextFeatures(
        user_id=viewer.user_id,
        timestamp=datetime.now(UTC),
        device=request.device,
        page=request.page,
        preferences=preferences,
        recent_categories=signals.interests,
        viewed_category=viewed.category if viewed else None,
        viewed_brand=viewed.brand if viewed else None,
        features=request.features,
        disliked_categories=signals.disliked_categories,
        disliked_brands=signals.disliked_brands,
        disliked_items=signals.disliked_items,
    )
    rng = random.Random()
    if candidates is None:
        # Affinities the shopper's own signals contradict are no source of candidates, and
        # products they turned down are none at all (unless nothing else is left).
        disliked = set(signals.disliked_categories)
        candidates = index.candidates(
            limit=runtime.settings.recommendation_candidates,
            rng=rng,
            viewed=request.product_id,
            categories=[
                c
                for c in [*signals.interests[:3], *favourite_categories(preferences)]
                if c not in disliked
            ],
            brands=[b for b in favourite_brands(preferences) if b not in signals.disliked_brands],
            excluded=frozenset(signals.disliked_items),
            minimum=request.k,
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
