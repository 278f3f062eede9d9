"""User resolvers."""

from __future__ import annotations

from strawberry import relay

from core.pagination import PageRequest
from resolvers.payloads import with_user_errors
from schema.context import Info
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
    page = PageRequest.from_args(
        first=first, after=after, last=None, before=None,
        max_size=info.context.settings.max_page_size,
    )  # fmt: skip
    result = await users.list_users(page, search=search)
    return UserConnection(
        edges=[
            UserEdge(cursor=c, node=UserType.from_model(u))
            for u, c in zip(result.items, result.cursors, strict=True)
        ],
        page_info=relay.PageInfo(
            has_next_page=result.has_next_page,
            has_previous_page=result.has_previous_page,
            start_cursor=result.start_cursor,
            end_cursor=result.end_cursor,
        ),
    )
