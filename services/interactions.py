"""Shopper interactions with products: recording them and reading their aggregates.

Every interaction — explicit (`recordInteraction`) or implied (cart adds, purchases, AR
views) — goes through `store_interaction`, so each carries its reward from the one table
and bumps the product's popularity the same way. Nothing here knows the learner: a reward
logged on a recommendation is announced on the event bus (`events.REWARDS`) after the
commit, and whichever process learns hears it there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from core.transactions import after_commit
from models import Product, RecommendationReward, UserInteraction
from models.interaction import InteractionAction
from services import events
from services.recommendations.rewards import (
    POPULARITY_DELTA,
    RewardTable,
    RewardTarget,
    learned_signal,
)


async def store_interaction(
    *,
    rewards: RewardTable,
    product_id: int,
    action: InteractionAction,
    user_id: int | None = None,
    session_id: str | None = None,
    context: dict[str, Any] | None = None,
    attributed_to: RewardTarget | None = None,
) -> UserInteraction:
    """Store one interaction with its reward; with `attributed_to` (the recommendation that
    showed the product), also the learned reward on that decision, once per signal
    (`services.recommendations.rewards`). Must run inside the caller's `atomic()`: the
    learner is told after the commit."""
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
    signal = learned_signal(action)
    logged = (
        attributed_to is not None
        and signal is not None
        and await _log_reward(interaction, attributed_to, signal)
    )
    if logged:
        after_commit(events.publish, events.REWARDS, {"eventId": attributed_to.event_id})
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


async def _log_reward(interaction: UserInteraction, target: RewardTarget, signal: str) -> bool:
    """Whether the reward was logged (False: this item has this signal on the decision)."""
    product_id = interaction.product_id
    if await RecommendationReward.exists(
        event_id=target.event_pk, product_id=product_id, signal=signal
    ):
        return False
    try:
        async with in_transaction():  # a savepoint: a lost race must not abort the outer write
            await RecommendationReward.create(
                event_id=target.event_pk,
                interaction=interaction,
                product_id=product_id,
                action=interaction.action.value,
                signal=signal,
                reward=interaction.reward,
                slot=target.slot,
                probability=target.probability,
            )
    except IntegrityError:
        return False
    return True
