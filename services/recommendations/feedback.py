"""Feedback on recommendations: which decision a reward belongs to, and `recordInteraction`
(what only the client sees: a view, a tick, a cross), learned right after the commit.

Server-witnessed actions (cart adds, purchases, AR views) are recorded by their own
services through `services.interactions.store_interaction`, credited to a decision found
here (`reward_target`, `credited_targets`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from core.errors import DomainError, ErrorCode, InvalidInput
from core.json_values import json_object
from core.transactions import atomic
from models import Product, RecommendationEvent, UserInteraction
from models.interaction import InteractionAction
from services import events, interactions
from services.recommendations.decisions import UnreadableDecision, logged_items
from services.recommendations.request import MAX_CONTEXT_BYTES, shopper_key
from services.recommendations.rewards import CLIENT_REPORTED, RewardTable, RewardTarget

if TYPE_CHECKING:
    from services.recommendations.runtime import RecommenderRuntime


def _shown_to(event: RecommendationEvent, *, user_id: int | None, session_id: str | None) -> bool:
    """A signed-in shopper's slate answers to that account only; an anonymous slate to an
    anonymous shopper with the same session (a signed-in user sending someone's session id
    must not reward their slates)."""
    if event.user_id is not None:
        return event.user_id == user_id
    return user_id is None and event.session_id is not None and event.session_id == session_id


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
    try:
        shown = logged_items(event)
    except UnreadableDecision:
        raise unknown from None
    for item in shown:
        if item.action_id == product_id:
            return RewardTarget(event.id, event_id, item.slot, item.probability)
    raise unknown


async def credited_targets(lines: Sequence[tuple[int, int]]) -> dict[tuple[int, int], RewardTarget]:
    """For (decision pk, product id) pairs remembered by cart lines, the decisions' targets.

    Pairs whose decision is gone (purged) or did not show the product are left out."""
    events = {e.id: e for e in await RecommendationEvent.filter(id__in={pk for pk, _ in lines})}
    found: dict[tuple[int, int], RewardTarget] = {}
    for pk, product_id in lines:
        event = events.get(pk)
        try:
            shown = logged_items(event) if event is not None else ()
        except UnreadableDecision:
            shown = ()  # a damaged row credits nothing; the purchase itself goes through
        item = next((i for i in shown if i.action_id == product_id), None)
        if event is not None and item is not None:
            found[(pk, product_id)] = RewardTarget(pk, event.event_id, item.slot, item.probability)
    return found


async def record_interaction(
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
        interaction = await interactions.store_interaction(
            rewards=rewards, product_id=product_id, action=action, user_id=user_id,
            session_id=session_id if user_id is None else None,
            context={**context, **({"eventId": event_id} if event_id else {})},
            attributed_to=target,
        )  # fmt: skip
    runtime.shopper_signals.forget(shopper_key(user_id, session_id))
    await events.interaction_recorded(interaction)
    return interaction


def validate_context(context: Any) -> dict[str, Any]:
    return json_object(context, field="context", max_bytes=MAX_CONTEXT_BYTES)
