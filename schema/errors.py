"""Error policy: every GraphQL error carries `extensions.code`; unexpected ones are masked.

Expected failures (`DomainError`, GraphQL syntax/validation/coercion errors) reach the client
as they are. Anything else is a bug: it is logged with its traceback and the client gets a
generic message with code INTERNAL_SERVER_ERROR and the request id to quote, never a stack
trace. In dev the exception's type and message are appended to help the developer. The
database being unreachable is no bug: code SERVICE_UNAVAILABLE, retry shortly.

With `hide_suggestions` (introspection off), "Did you mean ...?" sentences are removed from
every message. Validation already runs with graphql-core's `hide_suggestions`
(`schema/validation.py`); this catches the errors raised later, such as coercing variables
(`... not to include unknown field 'categry'. Did you mean 'category'? Found: ...`).

With `private_schema` (ENV=prod, introspection off) even that is not enough: "Cannot query
field 'x'" against "Field 'cart' of type 'Cart!' must have a selection of subfields" tells a
made-up field from a real one, which is how schema-recovery tools (clairvoyance) rebuild a
schema from a wordlist. There, a request whose document fails validation, or whose
variables do not fit their types, gets ONE generic error (`INVALID_REQUEST_MESSAGE`, code
GRAPHQL_VALIDATION_FAILED, the request id, no locations) however many problems it has and
whatever they are; the details go to the server log with the request id. Syntax errors and
the schema-independent limits keep their own messages: they tell nothing about the schema.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import MaskErrors, ParserCache

from core.background import is_transient
from core.errors import DomainError, ErrorCode

logger = logging.getLogger("shopgraph.errors")

# graphql-core's suggestions: ` Did you mean 'a', 'b', or 'c'?`, at the end of a message
# or, when coercing variables, before ` Found: ...`.
_SUGGESTION = re.compile(r"\s*Did you mean\b[^?]*\?")
# graphql-core's parser refusing a document over `max_tokens` (MaxTokensLimiter) or nested
# beyond its recursion guard: limits, not typos.
INVALID_REQUEST_MESSAGE = (
    "The request does not fit this API (the server log has the details under the requestId)"
)
UNAVAILABLE_MESSAGE = "The service is briefly unavailable; nothing was changed, retry shortly"
_TOO_COMPLEX = re.compile(
    r"^Syntax Error: Document (contains more than \d+ tokens|is nested too deeply)"
)


def without_suggestions(message: str) -> str:
    return _SUGGESTION.sub("", message)


def _is_expected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is None or isinstance(original, (DomainError, GraphQLError))


def _code_for(error: GraphQLError) -> str:
    if isinstance(error, GraphQLSyntaxError):
        if _TOO_COMPLEX.match(error.message):
            return ErrorCode.QUERY_TOO_COMPLEX
        return ErrorCode.GRAPHQL_PARSE_FAILED
    if isinstance(error.original_error, DomainError):
        return error.original_error.code
    if error.message.startswith("Variable '$") or "got invalid value" in error.message:
        return ErrorCode.BAD_USER_INPUT
    if error.path is None:
        return ErrorCode.GRAPHQL_VALIDATION_FAILED
    return ErrorCode.BAD_USER_INPUT


class ErrorPolicy(MaskErrors):
    """Strawberry's MaskErrors, taught which errors are expected and to keep a code on each."""

    def __init__(
        self, *, expose_details: bool, hide_suggestions: bool = False, private_schema: bool = False
    ) -> None:
        super().__init__(should_mask_error=lambda e: not _is_expected(e))
        self.expose_details = expose_details
        self.hide_suggestions = hide_suggestions
        self.private_schema = private_schema

    def _request_id(self) -> str | None:
        context = self.execution_context.context
        return getattr(context, "request_id", None)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        request_id = self._request_id()
        if original is not None and is_transient(original):
            # Not a bug: the database is away (a restart, a failover, a full pool). Clients
            # can tell "retry" from "report this"; a transaction never commits half-way.
            logger.warning(
                "database unavailable in %s: %s: %s",
                ".".join(str(p) for p in error.path or ()) or "operation",
                type(original).__name__, original, extra={"request_id": request_id},
            )  # fmt: skip
            return GraphQLError(
                message=UNAVAILABLE_MESSAGE,
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
                extensions={"code": ErrorCode.SERVICE_UNAVAILABLE.value, "requestId": request_id},
            )
        logger.error(
            "unexpected error in %s",
            ".".join(str(p) for p in error.path or ()) or "operation",
            exc_info=(type(original), original, original.__traceback__) if original else None,
            extra={"request_id": request_id},
        )
        message = "Internal server error"
        if self.expose_details and original is not None:
            message = f"{message}: {type(original).__name__}: {original}"
        return GraphQLError(
            message=message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": ErrorCode.INTERNAL_SERVER_ERROR.value, "requestId": request_id},
        )

    def _process_result(self, result: object) -> None:
        # Most results carry no errors: skip MaskErrors' isinstance test against a typing
        # Protocol (slow), which would find nothing to do.
        if getattr(result, "errors", None):
            super()._process_result(result)

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        errors = ensure_error_codes(super()._process_errors(errors))
        if self.private_schema and any(reveals_schema(e) for e in errors):
            return [self._generic_request_error(errors)]
        if self.hide_suggestions:
            for error in errors:
                error.message = without_suggestions(error.message)
        return errors

    def _generic_request_error(self, errors: list[GraphQLError]) -> GraphQLError:
        request_id = self._request_id()
        logger.info(
            "request refused: %s",
            " | ".join(e.message for e in errors),
            extra={"request_id": request_id},
        )
        return GraphQLError(
            INVALID_REQUEST_MESSAGE,
            extensions={
                "code": ErrorCode.GRAPHQL_VALIDATION_FAILED.value,
                "requestId": request_id,
            },
        )


def reveals_schema(error: GraphQLError) -> bool:
    """A validation error, or a variable that does not fit its type: both name (or give
    away) fields, arguments, types and enum values."""
    if error.path is not None:
        return False
    code = (error.extensions or {}).get("code") or _code_for(error)
    if code == ErrorCode.GRAPHQL_VALIDATION_FAILED:
        return True
    return code == ErrorCode.BAD_USER_INPUT and error.message.startswith("Variable '$")


def ensure_error_codes(errors: list[GraphQLError]) -> list[GraphQLError]:
    """Give every error an `extensions.code` (idempotent)."""
    for error in errors:
        if not (error.extensions or {}).get("code"):
            error.extensions = {**(error.extensions or {}), "code": str(_code_for(error))}
    return errors


# Longer documents are parsed (and validated) without the caches: an entry keeps the query
# text and its AST alive, so distinct large documents (up to MAX_REQUEST_BYTES each) would
# let a client fill memory. Real client documents are a few KB.
MAX_CACHED_QUERY_LENGTH = 10_000


class SafeParserCache(ParserCache):
    """Strawberry's ParserCache, except that a syntax error is left to Strawberry's own parse
    and documents over `MAX_CACHED_QUERY_LENGTH` characters are not cached.

    Raised from the cache hook, a syntax error skips the operation hooks (and with them the
    error policy); leaving the document unset makes Strawberry parse again inside its own
    error handling, which reports it like any other request error.
    """

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None:
            yield  # a prepared document (schema.documents): nothing to parse
            return
        if len(context.query or "") > MAX_CACHED_QUERY_LENGTH:
            yield  # Strawberry parses it, once
            return
        with contextlib.suppress(GraphQLError):
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        yield
