from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from models import User
from schema.context import Info
from schema.types.errors import UserError
from schema.types.nodes import nodes_in_order


@strawberry.type(name="User", description="A shopper or admin account (synced from Clerk).")
class UserType(relay.Node):
    id: relay.NodeID[int]
    email: str | None
    name: str
    avatar_url: str | None
    preferences: JSON = strawberry.field(description="Shopper preferences (a JSON object).")
    is_admin: bool
    created_at: datetime

    @classmethod
    def from_model(cls, user: User) -> UserType:
        return cls(
            id=user.id,
            email=user.email,
            name=user.name,
            avatar_url=user.avatar_url,
            preferences=user.preferences,
            is_admin=user.is_admin,
            created_at=user.created_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[UserType | None]:
        viewer = info.context.viewer

        async def visible(ids: list[int]) -> list[User]:
            users = await info.context.loaders.user_by_id.load_many(
                [i for i in ids if viewer.owns(i)]
            )
            return [u for u in users if u is not None and u.deleted_at is None]

        return await nodes_in_order(node_ids, visible, cls.from_model)


@strawberry.input(description="Profile fields to change; omitted fields stay as they are.")
class UpdateMeInput:
    name: str | None = None
    avatar: str | None = strawberry.field(default=None, description="An http(s) image URL.")
    preferences: JSON | None = strawberry.field(
        default=None, description="A JSON object (at most 16 KB, 5 levels deep)."
    )


@strawberry.type
class UpdateMePayload:
    user: UserType | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="An edge in a user list.")
class UserEdge(relay.Edge[UserType]):
    pass


@strawberry.type(description="A page of users, newest first.")
class UserConnection(relay.Connection[UserType]):
    edges: list[UserEdge]
