"""Shopper interactions with products: recording them and reading their aggregates.

Every interaction — explicit (`recordInteraction`) or implied (cart adds, purchases, AR
views) — goes through `record_interaction`, so each carries its reward from the one table
and bumps the product's popularity the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from core.errors import DomainError, ErrorCode, InvalidInput
from core.json_values import json_object
from core.transactions import after_commit, atomic
from models import Product, RecommendationReward, UserInteraction
from models.interaction import InteractionAction
from services import events
from services.recommendations import (
    MAX_CONTEXT_BYTES,
    RewardTarget,
    reward_target,
    shopper_key,
)
from services.recommender import REWARDS_CHANNEL, RecommenderRuntime
from services.rewards import CLIENT_REPORTED, POPULARITY_DELTA, RewardTable, learned_signal


async def record_interaction(
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
    (`services.rewards`). Must run inside the caller's `atomic()`: the learners are told
    after the commit."""
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
        after_commit(events.publish, REWARDS_CHANNEL, {"eventId": attributed_to.event_id})
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


async def record_feedback(
    *,
    rewards: RewardTable,
    runtime: RecommenderRuntime,
    product_id: int,
    action: InteractionAction,
    user_id: int | None,
    session_id: str | None,
    event_id: str | None = None,
    context: Any = None,
) -> UserInteraction:
    """`recordInteraction`: what only the client sees (a view, a tick, a cross); with an
    `event_id`, also the reward on that recommendation, learned right after the commit."""
    if action not in CLIENT_REPORTED:
        raise InvalidInput(
            "Cart adds, purchases and AR views are recorded by addToCart, checkout and "
            "startArSession",
            field="action",
        )
    if user_id is None and not session_id:
        raise InvalidInput("Anonymous shoppers must send a `sessionId`", field="sessionId")
    context = validate_context(context)
    if not await Product.exists(id=product_id):
        raise DomainError(ErrorCode.PRODUCT_NOT_FOUND, "No product with this id", field="productId")
    target = None
    if event_id is not None:
        target = await reward_target(
            runtime, event_id=event_id, product_id=product_id, user_id=user_id,
            session_id=session_id,
        )  # fmt: skip
    async with atomic():
        interaction = await record_interaction(
            rewards=rewards, product_id=product_id, action=action, user_id=user_id,
            session_id=session_id if user_id is None else None,
            context={**context, **({"eventId": event_id} if event_id else {})},
            attributed_to=target,
        )  # fmt: skip
    runtime.recent_categories.forget(shopper_key(user_id, session_id))
    await events.interaction_recorded(interaction)
    return interaction


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


def validate_context(context: Any) -> dict[str, Any]:
    return json_object(context, field="context", max_bytes=MAX_CONTEXT_BYTES)
