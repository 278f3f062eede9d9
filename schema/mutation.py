"""Root Mutation: composed from one class per domain."""

from __future__ import annotations

import strawberry

from resolvers import users
from schema.permissions import IsAuthenticated
from schema.types.user import UpdateMePayload


@strawberry.type
class UserMutation:
    update_me: UpdateMePayload = strawberry.field(
        resolver=users.update_me,
        permission_classes=[IsAuthenticated],
        description="Change the signed-in user's name, avatar or preferences.",
    )


@strawberry.type
class Mutation(UserMutation):
    pass
