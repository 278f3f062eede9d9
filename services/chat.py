"""Chat sessions: a shopper's conversations, optionally about one product, and their messages.

Sessions are private to their owner: anyone else -- admins included -- gets
SESSION_NOT_FOUND (or null when reading). A posted message is published on the session's
live channel after it commits; live delivery to clients comes with the subscriptions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum

from tortoise import connections
from tortoise.expressions import Q

from core.errors import DomainError, ErrorCode, InvalidInput
from core.pagination import Cursor, Page, PageRequest
from core.transactions import atomic
from models import ChatMessage, ChatSession, Product
from services import events

MAX_TITLE_LENGTH = 200
MAX_BODY_LENGTH = 2000


class ChatRole(StrEnum):
    """Who wrote a message; shoppers write `user` messages."""

    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"


SESSION_CURSOR = ("chat_session", "updated:desc")
MESSAGE_CURSOR = ("chat_message", "id:asc")


def _not_found() -> DomainError:
    return DomainError(ErrorCode.SESSION_NOT_FOUND, "No such chat session", field="sessionId")


async def start_chat_session(
    *, user_id: int, product_id: int | None = None, title: str | None = None
) -> ChatSession:
    """Open a conversation; about a product when `product_id` is given (titled after it)."""
    product = None
    if product_id is not None:
        product = await Product.get_or_none(id=product_id)
        if product is None:
            raise DomainError(ErrorCode.PRODUCT_NOT_FOUND, "No such product", field="productId")
    if title is not None:
        title = title.strip()
        if len(title) > MAX_TITLE_LENGTH:
            raise InvalidInput(
                f"`title` is limited to {MAX_TITLE_LENGTH} characters", field="title"
            )
    return await ChatSession.create(
        user_id=user_id,
        product_id=product_id,
        title=title or (product.name if product else ""),
    )


async def post_chat_message(*, user_id: int, session_id: int, body: str) -> ChatMessage:
    text = body.strip()
    if not 1 <= len(text) <= MAX_BODY_LENGTH:
        raise InvalidInput(f"A message is 1 to {MAX_BODY_LENGTH} characters", field="body")
    async with atomic() as tx:
        # Moving `updated_at` keeps the session list ordered by the latest activity.
        touched = await ChatSession.filter(id=session_id, user_id=user_id).update(
            updated_at=datetime.now(UTC)
        )
        if not touched:
            raise _not_found()
        message = await ChatMessage.create(
            session_id=session_id, author_id=user_id, role=ChatRole.USER, body=text
        )
        tx.after_commit(events.chat_message_added, message, owner_id=user_id)
    return message


async def list_chat_sessions(user_id: int, page: PageRequest) -> Page[ChatSession]:
    """The owner's sessions, most recently active first (keyset on updated_at, id)."""
    kind, sort = SESSION_CURSOR
    query = ChatSession.filter(user_id=user_id)
    if page.after:
        cursor = Cursor.decode(page.after, kind=kind, sort=sort, field="after")
        try:
            at = datetime.fromisoformat(str(cursor.key))
        except ValueError as exc:
            raise DomainError(ErrorCode.INVALID_CURSOR, "`after` is not a valid cursor") from exc
        query = query.filter(Q(updated_at__lt=at) | Q(updated_at=at, id__lt=cursor.id))
    rows = await query.order_by("-updated_at", "-id").limit(page.size + 1)
    items = rows[: page.size]
    return Page(
        items=items,
        cursors=[Cursor(kind, sort, s.updated_at.isoformat(), s.id).encode() for s in items],
        has_next_page=len(rows) > page.size,
        has_previous_page=page.after is not None,
    )


def message_cursor(message_id: int) -> str:
    return Cursor(*MESSAGE_CURSOR, None, message_id).encode()


def decode_message_cursor(value: str | None) -> int:
    """The message id a cursor points at; 0 (before the first message) without one."""
    if value is None:
        return 0
    kind, sort = MESSAGE_CURSOR
    return Cursor.decode(value, kind=kind, sort=sort, field="after").id


async def messages_after(
    session_ids: Sequence[int], *, after_id: int, limit: int
) -> dict[int, list[ChatMessage]]:
    """Up to `limit` messages per session with ids above `after_id`, oldest first -- for
    many sessions in one query (a window function numbers each session's messages)."""
    if not session_ids:
        return {}
    conn = connections.get("default")
    postgres = conn.capabilities.dialect == "postgres"
    count = len(session_ids)
    marks = [f"${i}" for i in range(1, count + 3)] if postgres else ["?"] * (count + 2)
    # Only placeholders are spliced in; every value is a bound parameter.
    sql = (
        "SELECT * FROM (SELECT id, session_id, author_id, role, body, created_at, "  # noqa: S608
        "ROW_NUMBER() OVER (PARTITION BY session_id ORDER BY id) AS row_in_session "
        f"FROM chat_messages WHERE session_id IN ({', '.join(marks[:count])}) "
        f"AND id > {marks[count]}) numbered "
        f"WHERE row_in_session <= {marks[count + 1]} ORDER BY session_id, id"
    )
    rows = await conn.execute_query_dict(sql, [*session_ids, after_id, limit])
    grouped: dict[int, list[ChatMessage]] = defaultdict(list)
    for row in rows:
        grouped[int(row["session_id"])].append(ChatMessage._init_from_db(**row))
    return grouped


async def sessions_by_ids(ids: Sequence[int], *, user_id: int) -> list[ChatSession]:
    return await ChatSession.filter(id__in=list(ids), user_id=user_id)


async def messages_by_ids(ids: Sequence[int], *, user_id: int) -> list[ChatMessage]:
    return await ChatMessage.filter(id__in=list(ids), session__user_id=user_id)
