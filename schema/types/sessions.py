from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from core.ids import INT64_MAX
from core.pagination import Page
from models import ARSession, ChatMessage, ChatSession
from schema.context import Info
from schema.types.connections import connection, page_request
from schema.types.errors import UserError
from schema.types.nodes import nodes_in_order
from schema.types.product import ProductType
from services import ar_sessions, chat

ChatRoleEnum = strawberry.enum(chat.ChatRole, name="ChatRole", description="Who wrote a message.")


def _owned(info: Info, by_ids: Callable[..., Awaitable[list[Any]]]):
    """The viewer's own rows among some ids (none for anonymous viewers)."""
    user_id = info.context.viewer.user_id

    async def fetch(ids: list[int]) -> list[Any]:
        return [] if user_id is None else await by_ids(ids, user_id=user_id)

    return fetch


async def _product(info: Info, product_id: int | None) -> ProductType | None:
    if product_id is None:
        return None
    found = await info.context.loaders.product_by_id.load(product_id)
    return None if found is None else ProductType.from_model(found)


@strawberry.type(name="ArSession", description="A shopper viewing a product in AR.")
class ArSessionType(relay.Node):
    id: relay.NodeID[int]
    started_at: datetime = strawberry.field(description="When the session started.")
    ended_at: datetime | None = strawberry.field(description="Null while the session is open.")
    metadata: JSON = strawberry.field(description="What the client reported (device, ...).")
    product_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, session: ARSession) -> ArSessionType:
        return cls(
            id=session.id,
            started_at=session.started_at,
            ended_at=session.ended_at,
            metadata=session.metadata,
            product_id=session.product_id,  # type: ignore[attr-defined]
        )

    @strawberry.field
    async def product(self, info: Info) -> ProductType | None:
        return await _product(info, self.product_id)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[ArSessionType | None]:
        return await nodes_in_order(
            node_ids, _owned(info, ar_sessions.ar_sessions_by_ids), cls.from_model
        )


@strawberry.type(name="ChatMessage", description="One message of a chat session.")
class ChatMessageType(relay.Node):
    id: relay.NodeID[int]
    role: ChatRoleEnum = strawberry.field(  # type: ignore[valid-type]
        description="Who wrote it: the shopper (USER) or the shop."
    )
    body: str = strawberry.field(description="The text, 1 to 2000 characters.")
    created_at: datetime = strawberry.field(description="When it was posted.")

    @classmethod
    def from_model(cls, message: ChatMessage) -> ChatMessageType:
        return cls(
            id=message.id,
            role=chat.ChatRole(message.role),
            body=message.body,
            created_at=message.created_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[ChatMessageType | None]:
        return await nodes_in_order(
            node_ids, _owned(info, chat.messages_by_ids), cls.from_model, max_id=INT64_MAX
        )


@strawberry.type(description="An edge in a message list.")
class ChatMessageEdge(relay.Edge[ChatMessageType]):
    pass


@strawberry.type(description="A page of messages, oldest first.")
class ChatMessageConnection(relay.Connection[ChatMessageType]):
    edges: list[ChatMessageEdge]


@strawberry.type(name="ChatSession", description="A shopper's conversation, maybe about a product.")
class ChatSessionType(relay.Node):
    id: relay.NodeID[int]
    title: str = strawberry.field(description="Given when opened; the product's name by default.")
    created_at: datetime = strawberry.field(description="When the session was opened.")
    updated_at: datetime = strawberry.field(description="When the last message was posted.")
    product_id: strawberry.Private[int | None]

    @classmethod
    def from_model(cls, session: ChatSession) -> ChatSessionType:
        return cls(
            id=session.id,
            title=session.title,
            created_at=session.created_at,
            updated_at=session.updated_at,
            product_id=session.product_id,  # type: ignore[attr-defined]
        )

    @strawberry.field(description="The product the conversation is about, if any.")
    async def product(self, info: Info) -> ProductType | None:
        return await _product(info, self.product_id)

    @strawberry.field(
        description="Messages oldest first, `first` (at most 100, default 50) after the "
        "`after` cursor. Batched across a list of sessions."
    )
    async def messages(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> ChatMessageConnection:
        request = page_request(info, first=first, after=after)
        after_id = chat.decode_message_cursor(request.after)
        # One more than asked tells whether there is a next page.
        rows = await info.context.loaders.chat_message_page.load(
            (self.id, after_id, request.size + 1)
        )
        items = rows[: request.size]
        page = Page(
            items=items,
            cursors=[chat.message_cursor(m.id) for m in items],
            has_next_page=len(rows) > request.size,
            has_previous_page=after_id > 0,
        )
        return connection(ChatMessageConnection, ChatMessageEdge, page, ChatMessageType.from_model)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[ChatSessionType | None]:
        return await nodes_in_order(node_ids, _owned(info, chat.sessions_by_ids), cls.from_model)


@strawberry.type(description="An edge in a chat session list.")
class ChatSessionEdge(relay.Edge[ChatSessionType]):
    pass


@strawberry.type(description="A page of chat sessions, most recently active first.")
class ChatSessionConnection(relay.Connection[ChatSessionType]):
    edges: list[ChatSessionEdge]


@strawberry.type(description="The AR session started or ended, or why not.")
class ArSessionPayload:
    ar_session: ArSessionType | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="The chat session opened, or why not.")
class ChatSessionPayload:
    chat_session: ChatSessionType | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="The message posted, or why not.")
class ChatMessagePayload:
    message: ChatMessageType | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
