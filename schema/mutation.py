"""Root Mutation: composed from one class per domain."""

from __future__ import annotations

import strawberry

from resolvers import recommendations, users
from schema.permissions import IsAuthenticated
from schema.types.recommendation import RecordInteractionPayload
from schema.types.user import UpdateMePayload


@strawberry.type
class UserMutation:
    update_me: UpdateMePayload = strawberry.field(
        resolver=users.update_me,
        permission_classes=[IsAuthenticated],
        description="Change the signed-in user's name, avatar or preferences.",
    )


@strawberry.type
class RecommendationMutation:
    record_interaction: RecordInteractionPayload = strawberry.field(
        resolver=recommendations.record_interaction,
        description=(
            "Record a view, tick, cross, cart add, purchase or AR view. With the `eventId` "
            "of the slate that showed the product, the model learns from it right away."
        ),
    )


@strawberry.type
class Mutation(RecommendationMutation, UserMutation):
    pass
