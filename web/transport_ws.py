"""GraphQL over websockets (`graphql-transport-ws`): Strawberry's handler plus our policies.

- Subscriptions whose results are the same for several subscribers run once and are shared
  (`web.shared_subscriptions`); queries and mutations over the socket run as usual.
- Session expiry: a connection authenticated with a token is closed with 4403 ("Token
  expired") at the token's expiry plus the allowed clock skew, which ends its
  subscriptions. To keep a socket open past that, send a `ping` whose payload carries a
  fresh token for the same user, `{"type": "ping", "payload": {"authorization": "Bearer
  ..."}}`; otherwise reconnect with a fresh token (graphql-ws: `connectionParams` as a
  function and `retryAttempts`).
- Persisted documents: a `subscribe` payload may name its document by `documentId` or APQ's
  `extensions.persistedQuery` instead of sending `query` (web/persisted_documents.py), and
  OPERATIONS=trusted refuses a `query` here as over HTTP (an `error` for that operation).
- Limits: subscriptions per connection (an `error` for the operation over the cap),
  connections per user and anonymous connections per client IP (close 4429 "Too many
  connections").
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphql import OperationType
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)

from live import EventHub
from schema.context import Context
from schema.subscription import PUBLIC_SUBSCRIPTIONS
from services import events, users
from services.tokens import InvalidToken
from web.operations import operation_shape
from web.persisted_documents import PersistedRequestError
from web.shared_subscriptions import ConnectionWriter, Member, SharedSubscriptions, encode

if TYPE_CHECKING:
    from web.graphql_view import GraphQLView

CLOSE_TOKEN_EXPIRED = CLOSE_FORBIDDEN = 4403
ACCOUNT_GONE = "Account deleted"
CLOSE_TOO_MANY_CONNECTIONS = 4429


@dataclass(frozen=True, slots=True)
class SubscriptionPlan:
    field: str
    public: bool


def plan_for(query: str, operation_name: str | None) -> SubscriptionPlan | None:
    """How to share a document's operation, or None when it is not a shareable subscription."""
    shape = operation_shape(query, operation_name)
    if shape is None or shape.type is not OperationType.SUBSCRIPTION:
        return None
    if len(shape.root_fields) != 1 or shape.root_fields[0] is None:
        return None
    name = shape.root_fields[0]
    return SubscriptionPlan(field=name, public=name in PUBLIC_SUBSCRIPTIONS)


class WebSocketState:
    """Per-process state shared by all websocket connections of a view."""

    def __init__(self) -> None:
        self.shared = SharedSubscriptions()
        self.connections_per_user: Counter[int] = Counter()
        self.anonymous_connections_per_ip: Counter[str] = Counter()
        self.handlers_per_user: dict[int, set[TransportWSHandler]] = defaultdict(set)
        self.open_connections = 0

    async def close_account(self, user_id: int) -> int:
        """Close every socket of an erased account in this process; returns how many."""
        handlers = list(self.handlers_per_user.get(user_id, ()))
        for handler in handlers:
            await handler.websocket.close(CLOSE_FORBIDDEN, ACCOUNT_GONE)
        return len(handlers)

    async def follow_erasures(self, hub: EventHub, ready: asyncio.Event) -> None:
        """Close the sockets of accounts erased in any process (`events.ACCOUNTS`)."""
        async with hub.subscribe(events.ACCOUNTS) as stream:
            ready.set()
            async for event in stream:
                user_id = event.payload.get("userId")
                if isinstance(user_id, int):
                    await self.close_account(user_id)


def _client_ip(context: Context) -> str:
    # The peer uvicorn reports: the proxy's address unless its forwarded headers are trusted
    # (`FORWARDED_ALLOW_IPS`).
    client = context.request.client
    return client.host if client else "unknown"


def _release(counts: Counter, key: Any) -> None:
    counts[key] -= 1
    if counts[key] <= 0:
        del counts[key]


class TransportWSHandler(BaseGraphQLTransportWSHandler):
    view: GraphQLView
    context: Context

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.writer: ConnectionWriter | None = None
        self._expiry: asyncio.Task | None = None
        self._counted_user: int | None = None
        self._counted_ip: str | None = None
        self._refused = False

    # --- connection lifecycle ---------------------------------------------------------

    async def handle_connection_init(self, message: Any) -> None:
        await super().handle_connection_init(message)
        if self._refused or not self.connection_acknowledged or self.writer is not None:
            return
        settings = self.view.settings
        self.writer = ConnectionWriter(self._send_text, max_pending=settings.ws_max_pending)
        self._schedule_expiry()

    async def send_message(self, message: Any) -> None:
        # Admission happens at the ack: after authentication, before the client is told it is
        # in, so a refused client never sees `connection_ack`.
        if message.get("type") == "connection_ack" and not self._admit():
            self._refused = True
            await self.websocket.close(CLOSE_TOO_MANY_CONNECTIONS, "Too many connections")
            return
        await super().send_message(message)

    def _admit(self) -> bool:
        """Count this socket against its account's or its IP's cap, if there is room."""
        settings = self.view.settings
        state = self.view.ws_state
        user_id = self.context.viewer.user_id
        if user_id is not None:
            if state.connections_per_user[user_id] >= settings.ws_max_connections_per_user:
                return False
            state.connections_per_user[user_id] += 1
            state.handlers_per_user[user_id].add(self)
            self._counted_user = user_id
            return True
        ip = _client_ip(self.context)
        if state.anonymous_connections_per_ip[ip] >= settings.ws_max_anonymous_connections_per_ip:
            return False
        state.anonymous_connections_per_ip[ip] += 1
        self._counted_ip = ip
        return True

    async def _send_text(self, text: str) -> None:
        await self.websocket.ws.send_text(text)  # type: ignore[attr-defined]

    def _schedule_expiry(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        expires_at = self.context.viewer.expires_at
        if expires_at is None:
            return
        delay = expires_at.timestamp() + self.view.settings.auth_leeway_seconds - time.time()
        self._expiry = asyncio.create_task(self._close_at_expiry(max(delay, 0.0)))

    async def _close_at_expiry(self, delay: float) -> None:
        await asyncio.sleep(delay)
        await self.websocket.close(CLOSE_TOKEN_EXPIRED, "Token expired")

    async def handle_ping(self, message: Any) -> None:
        payload = message.get("payload")
        if (
            isinstance(payload, dict)
            and payload.get("authorization")
            and self.connection_acknowledged
        ):
            try:
                viewer = await self.view.authenticator.for_connection_params(payload)
            except InvalidToken:
                await self.websocket.close(CLOSE_TOKEN_EXPIRED, "Invalid token")
                return
            if viewer is None or viewer.user_id != self.context.viewer.user_id:
                await self.websocket.close(CLOSE_TOKEN_EXPIRED, "A socket cannot change user")
                return
            self.context.viewer = viewer
            self._schedule_expiry()
        await super().handle_ping(message)

    async def shutdown(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._expiry
        await super().shutdown()
        if self.writer is not None:
            await self.writer.close()
        state = self.view.ws_state
        if self._counted_user is not None:
            _release(state.connections_per_user, self._counted_user)
            handlers = state.handlers_per_user.get(self._counted_user)
            if handlers is not None:
                handlers.discard(self)
                if not handlers:
                    del state.handlers_per_user[self._counted_user]
        if self._counted_ip is not None:
            _release(state.anonymous_connections_per_ip, self._counted_ip)

    # --- operations ---------------------------------------------------------------------

    async def handle_subscribe(self, message: Any) -> None:
        # The socket authenticated once; the account may have been erased since (in another
        # process, or while the erasure event was lost): every operation re-checks it.
        user_id = self.context.viewer.user_id
        if user_id is not None and not await users.account_is_active(user_id):
            await self.websocket.close(CLOSE_FORBIDDEN, ACCOUNT_GONE)
            return
        payload = message.get("payload")
        # Malformed, early or duplicate subscribes are Strawberry's to refuse (4400/4401/4409).
        operation_id = message.get("id")
        acceptable = self.connection_acknowledged and operation_id not in self.operations
        if isinstance(payload, dict) and isinstance(operation_id, str) and acceptable:
            try:
                text = self.view.persisted.resolve(
                    query=payload.get("query"),
                    document_id=payload.get("documentId"),
                    extensions=payload.get("extensions"),
                )
            except PersistedRequestError as exc:
                error = {"id": operation_id, "type": "error", "payload": [exc.formatted]}
                await self.send_message(error)  # type: ignore[arg-type]
                return
            if text is not None:
                payload["query"] = text
        await super().handle_subscribe(message)

    async def run_operation(self, operation: Operation) -> None:
        plan = plan_for(operation.query, operation.operation_name)
        if plan is None or self.writer is None:
            await super().run_operation(operation)
            return
        viewer = self.context.viewer
        visibility: tuple = (
            ("public",) if plan.public else ("viewer", viewer.user_id, viewer.is_admin)
        )
        key = (
            operation.query,
            operation.operation_name,
            json.dumps(operation.variables or {}, sort_keys=True),
            visibility,
        )
        shared_context = Context(
            request=self.context.request,
            response=self.context.response,
            settings=self.context.settings,
            request_id=self.context.request_id,
            rewards=self.context.rewards,
            recommender=self.context.recommender,
            viewer=viewer,
        )

        async def start() -> Any:
            return await self.schema.subscribe(
                operation.query,
                variable_values=operation.variables,
                context_value=shared_context,
                root_value=self.root_value,
                operation_name=operation.operation_name,
            )

        member = Member(self.writer, operation.id)
        kind, payload = await self.view.ws_state.shared.run(key, start, member)
        # Queued `next` messages go first: the final message takes the same queue.
        if operation.completed:
            return
        operation.completed = True
        self.operations.pop(operation.id, None)
        message = {"id": operation.id, "type": kind}
        text = encode(message)
        if payload is not None:
            text = text[:-1] + ',"payload":' + payload + "}"
        self.writer.push(text)
