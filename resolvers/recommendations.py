"""Recommendation and interaction resolvers."""

from __future__ import annotations

import strawberry

from models.interaction import InteractionAction as ActionValue
from resolvers.ids import product_pk
from resolvers.payloads import with_user_errors
from schema.context import Info
from schema.types.product import ProductType
from schema.types.recommendation import (
    InteractionType,
    Recommendation,
    RecommendationContextInput,
    RecommendationSlate,
    RecordInteractionInput,
    RecordInteractionPayload,
)
from services.recommendations import decide, feedback, request
from services.recommendations.rewards import RewardTarget


async def recommendations(
    info: Info, first: int = 10, context: RecommendationContextInput | None = None
) -> RecommendationSlate:
    """`recommendations` (and each slate of `recommendationsUpdated`)."""
    context = context or RecommendationContextInput()
    ask = request.validate_request(
        first=first,
        page=context.page,
        device=context.device,
        product_id=(
            None
            if context.product_id is None
            else product_pk(context.product_id, field="context.productId")
        ),
        session_id=context.session_id,
        features=context.features,
    )
    decision, products = await decide.recommendations(
        info.context.recommender, info.context.viewer, ask
    )
    return RecommendationSlate(
        event_id=decision.event_id,
        model_version=decision.slate.model_version,
        items=[
            Recommendation(
                product=ProductType.from_model(product),
                score=item.score,
                probability=item.probability,
                slot=item.slot,
            )
            for item, product in zip(decision.slate.items, products, strict=True)
        ],
    )


async def credited_recommendation(
    info: Info, event_id: strawberry.ID | None, product_id: int
) -> RewardTarget | None:
    """The slate an action is credited to (`eventId` of a server-witnessed mutation):
    UNKNOWN_EVENT unless it was shown to this shopper and recommended this product."""
    if event_id is None:
        return None
    return await feedback.reward_target(
        info.context.recommender,
        event_id=str(event_id),
        product_id=product_id,
        user_id=info.context.viewer.user_id,
        session_id=None,
    )


async def record_interaction(info: Info, input: RecordInteractionInput) -> RecordInteractionPayload:
    viewer = info.context.viewer

    async def action() -> dict:
        interaction = await feedback.record_interaction(
            rewards=info.context.rewards,
            runtime=info.context.recommender,
            product_id=product_pk(input.product_id),
            action=ActionValue(input.action.value),
            user_id=viewer.user_id,
            session_id=input.session_id,
            event_id=None if input.event_id is None else str(input.event_id),
            context=input.context,
        )
        return {"interaction": InteractionType.from_model(interaction)}

    return await with_user_errors(RecordInteractionPayload, action)
