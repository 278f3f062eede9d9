"""AR and chat session resolvers."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from core.errors import ErrorCode
from resolvers.ids import pk_of, product_pk
from resolvers.payloads import with_user_errors
from resolvers.recommendations import credited_recommendation
from schema.context import Info
from schema.types.connections import connection, page_request
from schema.types.sessions import (
    ArSessionPayload,
    ArSessionType,
    ChatMessagePayload,
    ChatMessageType,
    ChatSessionConnection,
    ChatSessionEdge,
    ChatSessionPayload,
    ChatSessionType,
)
from services import ar_sessions, chat


def _session_pk(gid: relay.GlobalID, type_name: str, field: str) -> int:
    return pk_of(gid, type_name, ErrorCode.SESSION_NOT_FOUND, field=field)


async def start_ar_session(
    info: Info,
    product_id: Annotated[relay.GlobalID, strawberry.argument(description="An AR product.")],
    metadata: Annotated[
        JSON | None, strawberry.argument(description="Client details, at most 2 KB.")
    ] = None,
    event_id: Annotated[
        strawberry.ID | None,
        strawberry.argument(
            description="The `eventId` of the recommendation slate the product was opened from."
        ),
    ] = None,
) -> ArSessionPayload:
    user = info.context.viewer.require_user()

    async def action() -> dict:
        pk = product_pk(product_id)
        session = await ar_sessions.start_ar_session(
            user_id=user.id,
            product_id=pk,
            rewards=info.context.rewards,
            metadata=metadata,
            recommendation=await credited_recommendation(info, event_id, pk),
        )
        return {"ar_session": ArSessionType.from_model(session)}

    return await with_user_errors(ArSessionPayload, action)


async def end_ar_session(info: Info, id: relay.GlobalID) -> ArSessionPayload:
    user = info.context.viewer.require_user()

    async def action() -> dict:
        session = await ar_sessions.end_ar_session(
            user_id=user.id, session_id=_session_pk(id, "ArSession", "id")
        )
        return {"ar_session": ArSessionType.from_model(session)}

    return await with_user_errors(ArSessionPayload, action)


async def start_chat_session(
    info: Info,
    product_id: Annotated[
        relay.GlobalID | None, strawberry.argument(description="The product to talk about.")
    ] = None,
    title: Annotated[
        str | None, strawberry.argument(description="Defaults to the product's name.")
    ] = None,
) -> ChatSessionPayload:
    user = info.context.viewer.require_user()

    async def action() -> dict:
        session = await chat.start_chat_session(
            user_id=user.id,
            product_id=None if product_id is None else product_pk(product_id),
            title=title,
        )
        return {"chat_session": ChatSessionType.from_model(session)}

    return await with_user_errors(ChatSessionPayload, action)


async def post_chat_message(
    info: Info,
    session_id: relay.GlobalID,
    body: Annotated[str, strawberry.argument(description="1 to 2000 characters.")],
) -> ChatMessagePayload:
    user = info.context.viewer.require_user()

    async def action() -> dict:
        message = await chat.post_chat_message(
            user_id=user.id,
            session_id=_session_pk(session_id, "ChatSession", "sessionId"),
            body=body,
        )
        return {"message": ChatMessageType.from_model(message)}

    return await with_user_errors(ChatMessagePayload, action)


async def chat_sessions(
    info: Info, first: int | None = None, after: str | None = None
) -> ChatSessionConnection:
    user = info.context.viewer.require_user()
    result = await chat.list_chat_sessions(user.id, page_request(info, first=first, after=after))
    return connection(ChatSessionConnection, ChatSessionEdge, result, ChatSessionType.from_model)
