"""A recommendation request: what a request may ask, and the shopper context read for it
(recent categories, cached a few seconds per shopper)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.errors import InvalidInput
from core.json_values import json_object
from models import Product, UserInteraction

if TYPE_CHECKING:
    from services.recommendations.runtime import RecommenderRuntime

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

    Cached for a few seconds per shopper (a feature may lag that much;
    `feedback.record_interaction` refreshes it at once for the shopper who just interacted)."""
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
