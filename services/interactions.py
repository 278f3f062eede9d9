"""Shopper interactions with products: recording them and reading their aggregates.

Every interaction — explicit (`recordInteraction`) or implied (cart adds, purchases, AR
views) — goes through `record_interaction`, so each carries its reward from the one table
and bumps the product's popularity the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tortoise.expressions import F
from tortoise.functions import Count

from models import Product, UserInteraction
from models.interaction import InteractionAction
from services.rewards import POPULARITY_DELTA, RewardTable

MAX_CONTEXT_BYTES = 4096


async def record_interaction(
    *,
    rewards: RewardTable,
    product_id: int,
    action: InteractionAction,
    user_id: int | None = None,
    session_id: str | None = None,
    context: dict[str, Any] | None = None,
) -> UserInteraction:
    """Store one interaction with its reward. Runs inside the caller's transaction if any;
    publishing and learning belong after the commit, to the caller."""
    interaction = await UserInteraction.create(
        user_id=user_id,
        session_id=session_id,
        product_id=product_id,
        action=action,
        reward=rewards.reward(action),
        context=context or {},
    )
    delta = POPULARITY_DELTA[action]
    if delta:
        await Product.filter(id=product_id).update(popularity=F("popularity") + delta)
    return interaction


async def action_counts(product_ids: Sequence[int]) -> list[tuple[int, str, int]]:
    """(product id, action, count) for every action recorded on the given products."""
    rows = (
        await UserInteraction.filter(product_id__in=list(product_ids))
        .annotate(n=Count("id"))
        .group_by("product_id", "action")
        .values_list("product_id", "action", "n")
    )
    return [(pid, str(action), int(n)) for pid, action, n in rows]
