"""The GraphQL endpoint: Strawberry's ASGI view with GraphQL-over-HTTP status codes, typed
context and JSON errors (with `extensions.code`) for malformed requests."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from core.errors import ErrorCode
from core.metrics import count_error
from core.settings import Settings
from schema.context import Context
from schema.errors import ensure_error_codes
from services.auth import ANONYMOUS
from services.recommendations.rewards import RewardTable
from services.recommendations.runtime import RecommenderRuntime
from services.tokens import InvalidToken
from web.auth import Authenticator
from web.graphiql import GraphiQLPage
from web.persisted_documents import PersistedDocuments, PersistedRequestError
from web.request_id import request_id_of
from web.response_cache import ResponseCache, is_anonymous, is_cacheable_document
from web.transport_ws import TransportWSHandler, WebSocketState
from web.websockets import WebSocketTracker

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


def error_body(message: str, code: ErrorCode | str) -> dict[str, Any]:
    count_error(str(code))
    return {"errors": [{"message": message, "extensions": {"code": str(code)}}]}


def _wants_graphql_response_json(request: Request) -> bool:
    return GRAPHQL_RESPONSE_JSON in request.headers.get("accept", "")


def _is_request_error(response: GraphQLHTTPResponse) -> bool:
    """Parse, validation and variable errors: the operation never ran (no `path`)."""
    errors = response.get("errors") or []
    return (
        response.get("data") is None
        and bool(errors)
        and all("path" not in e or e["path"] is None for e in errors)
    )


def _parses_as_graphql(request: Request) -> bool:
    """A GET, or a POST whose body Strawberry parses as JSON (its own content-type rule)."""
    if request.method == "GET":
        return True
    content_type, _ = parse_content_type(request.headers.get("content-type", ""))
    return request.method == "POST" and "application/json" in content_type


class GraphQLView(GraphQL):
    graphql_transport_ws_handler_class = TransportWSHandler

    def __init__(
        self,
        schema: Any,
        *,
        settings: Settings,
        authenticator: Authenticator,
        persisted: PersistedDocuments,
        response_cache: ResponseCache | None = None,
        graphiql: GraphiQLPage | None = None,
        recommender: RecommenderRuntime,
        rewards: RewardTable,
        **kw: Any,
    ) -> None:
        kw.setdefault("graphql_ide", "graphiql" if settings.graphiql_enabled else None)
        super().__init__(
            schema,
            # Only graphql-transport-ws: the legacy graphql-ws subprotocol (Apollo's
            # deprecated subscriptions-transport-ws) skipped every socket policy (token
            # expiry, init timeout, per-user cap, one user per socket) and cannot run queries
            # or mutations. A client offering only it is refused with 4406.
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=settings.ws_init_timeout_seconds),
            max_subscriptions_per_connection=settings.ws_max_subscriptions_per_connection,
            allowed_origins=settings.websocket_origins,
            **kw,
        )
        self.graphiql = graphiql
        self.ws_state = WebSocketState()
        self.settings = settings
        self.authenticator = authenticator
        self.rewards = rewards
        self.recommender = recommender
        self.response_cache = response_cache
        self.persisted = persisted
        self.websockets = WebSocketTracker()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self.websockets.serve(scope, receive, send, super().__call__)
            return
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive=receive)
        try:
            response = await self._cached_or_run(request)
        except HTTPException as exc:
            response = self._http_error(exc)
        except InvalidToken as exc:
            response = JSONResponse(
                error_body(str(exc), ErrorCode.UNAUTHENTICATED),
                401,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        except PersistedRequestError as exc:
            response = self._persisted_error(request, exc)
        await response(scope, receive, send)

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> Any:
        data = await super().parse_http_body(request)
        if isinstance(data, GraphQLRequestData):
            # `documentId` is not one of Strawberry's fields; look for it only when there is
            # no query (a persisted request's body is a few hundred bytes).
            document_id = None if data.query else await self._document_id(request)
            text = self.persisted.resolve(
                query=data.query, document_id=document_id, extensions=data.extensions
            )
            if text is not None:
                data.query = text
        return data

    async def _document_id(self, request: AsyncHTTPRequestAdapter) -> object:
        if request.method == "GET":
            return request.query_params.get("documentId")
        body = self.decode_json(await request.get_body())
        return body.get("documentId") if isinstance(body, dict) else None

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        # A persisted GET names its document by id: it is an operation, not the IDE.
        params = request.query_params
        return (
            super().should_render_graphql_ide(request)
            and params.get("documentId") is None
            and params.get("extensions") is None
        )

    @staticmethod
    def _persisted_error(request: Request, exc: PersistedRequestError) -> Response:
        wants_graphql_json = _wants_graphql_response_json(request)
        status = exc.status or (400 if wants_graphql_json else 200)
        media_type = GRAPHQL_RESPONSE_JSON if wants_graphql_json else "application/json"
        return JSONResponse(error_body(exc.message, exc.code), status, media_type=media_type)

    async def render_graphql_ide(self, request: Request) -> Response:
        # Our page serves its assets itself (works offline); Strawberry's loads a CDN.
        if self.graphiql is None:
            return await super().render_graphql_ide(request)
        return self.graphiql.render(request)

    async def _cached_or_run(self, request: Request) -> Response:
        cache = self.response_cache
        if cache is None or not is_anonymous(request) or not _parses_as_graphql(request):
            # Only what the view itself would accept is looked up: a cached answer must not
            # stand in for the 400/405/415 the request would get (a text/plain POST).
            return await self.run(request)
        key = cache.key_for(request, await request.body())
        entry = cache.get(key)
        if entry is not None:
            return cache.respond(request, entry)
        generation = cache.generation()
        response = await self.run(request)
        if getattr(request.state, "cacheable", False) and response.status_code == 200:
            cache.put(key, response, generation)
        return response

    async def execute_single(self, request: Request, *args: Any, **kwargs: Any) -> ExecutionResult:
        result = await super().execute_single(request, *args, **kwargs)
        data = kwargs.get("request_data")
        if self.response_cache is not None and data is not None and data.query:
            request.state.cacheable = not result.errors and is_cacheable_document(
                data.query, data.operation_name
            )
        return result

    @staticmethod
    def _http_error(exc: HTTPException) -> Response:
        status, reason = exc.status_code, exc.reason
        if reason == "Unsupported content type":
            status, reason = 415, "Unsupported content type: send application/json"
        if reason == "Batching is not enabled":
            reason = "Batched requests (a JSON array) are not supported: send one operation"
        if isinstance(exc.__cause__, InvalidOperationTypeError):
            # GraphQL over HTTP: a mutation over GET is 405 Method Not Allowed.
            status = 405
        headers = {"Allow": "GET, POST"} if status == 405 else None
        # 404: GET /graphql from a browser while GraphiQL is off.
        code = ErrorCode.NOT_FOUND if status == 404 else ErrorCode.BAD_REQUEST
        return JSONResponse(error_body(reason, code), status, headers=headers)

    def encode_json(self, data: object) -> str:
        # orjson: a page of products encodes several times faster than with `json`. Text,
        # not bytes: websocket messages must be text frames.
        return orjson.dumps(data, default=str).decode()

    def decode_json(self, data: str | bytes) -> object:
        try:
            return super().decode_json(data)
        except UnicodeDecodeError as exc:
            # A body that is not UTF-8 (found by an attack): bad JSON, so HTTP answers 400
            # instead of a 500 in text/plain.
            raise json.JSONDecodeError("The body is not UTF-8", "", 0) from exc
        except RecursionError as exc:
            # Arrays or objects nested past the interpreter's limit (found by fuzzing): bad
            # JSON for us, so HTTP answers 400 and a websocket closes with 4400.
            raise json.JSONDecodeError("JSON nested too deeply", "", 0) from exc

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        auth_error = None
        try:
            viewer = await self.authenticator(
                request, lenient_cookie=not isinstance(request, WebSocket)
            )
        except InvalidToken as exc:
            if not isinstance(request, WebSocket):
                raise
            # A websocket reports it after the handshake, with close code 4403.
            viewer, auth_error = ANONYMOUS, str(exc)
        return Context(
            request=request,
            response=response,
            settings=self.settings,
            request_id=request_id_of(request.scope),
            rewards=self.rewards,
            recommender=self.recommender,
            viewer=viewer,
            auth_error=auth_error,
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        try:
            viewer = await self.authenticator.for_connection_params(context.connection_params)
        except InvalidToken as exc:
            raise ConnectionRejectionError({"message": str(exc)}) from exc
        if viewer is not None:
            context.viewer = viewer
        elif context.auth_error:
            raise ConnectionRejectionError({"message": context.auth_error})
        return UNSET

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        if result.errors:
            ensure_error_codes(result.errors)
        response = await super().process_result(request, result)
        if _is_request_error(response):
            # The spec's request errors carry no `data` entry at all.
            response.pop("data", None)
        return response

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        request = getattr(sub_response, "_request", None)
        if request is not None and _wants_graphql_response_json(request):
            response.headers["content-type"] = GRAPHQL_RESPONSE_JSON
            request_error = isinstance(response_data, dict) and "data" not in response_data
            if request_error and response.status_code == 200:
                # 400 unless the request was refused with its own status (429).
                response.status_code = 400
        return response

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response._request = request  # type: ignore[attr-defined]
        return sub_response
