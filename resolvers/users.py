"""User resolvers."""

from __future__ import annotations

from resolvers.payloads import with_user_errors
from schema.context import Info
from schema.types.connections import connection, page_request
from schema.types.user import UpdateMeInput, UpdateMePayload, UserConnection, UserEdge, UserType
from services import users


async def me(info: Info) -> UserType | None:
    user = info.context.viewer.user
    return None if user is None else UserType.from_model(user)


async def update_me(info: Info, input: UpdateMeInput) -> UpdateMePayload:
    user = info.context.viewer.require_user()

    async def action() -> dict:
        changes = users.validate_profile(
            name=input.name, avatar_url=input.avatar, preferences=input.preferences
        )
        return {"user": UserType.from_model(await users.update_profile(user, changes))}

    return await with_user_errors(UpdateMePayload, action)


async def users_list(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    search: str | None = None,
) -> UserConnection:
    result = await users.list_users(page_request(info, first=first, after=after), search=search)
    return connection(UserConnection, UserEdge, result, UserType.from_model)
