"""User resolvers."""

from __future__ import annotations

from schema.context import Info
from schema.types.user import UserType


async def me(info: Info) -> UserType | None:
    user = info.context.viewer.user
    return None if user is None else UserType.from_model(user)
