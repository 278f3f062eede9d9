"""Per-user / per-IP rate limit on writes: mutations, and queries of fields that write.

Each root mutation field of an operation counts once, so `mutation { a: updateMe(...)
b: updateMe(...) }` costs two; in a query, each root field the schema marks as writing
(`schema/writes.py`: a `recommendations` slate logs a decision) counts once; other queries
and subscriptions are never throttled. Signed-in viewers are counted per user, anonymous ones per
client IP (behind a proxy, uvicorn's `--proxy-headers` with `FORWARDED_ALLOW_IPS` makes
that the real client). Over the limit the whole operation is refused before any resolver
runs: one error with code RATE_LIMITED and `extensions.retryAfter` (seconds); over HTTP the
status is 429 with a `Retry-After` header.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    OperationDefinitionNode,
    SelectionSetNode,
    get_operation_ast,
)
from starlette.responses import Response
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from core.errors import ErrorCode
from core.rate_limit import Decision, RateLimiter
from schema.writes import writes


def root_field_count(
    document, operation: OperationDefinitionNode, counts: Callable[[str], bool] = lambda _: True
) -> int:
    """Distinct response keys at the root of `operation` (fragments expanded) whose field
    name `counts`."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    keys: set[str] = set()
    seen: set[str] = set()

    def collect(selection_set: SelectionSetNode) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                if not name.startswith("__") and counts(name):
                    keys.add((selection.alias or selection.name).value)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in seen and name in fragments:
                    seen.add(name)
                    collect(fragments[name].selection_set)
            else:
                collect(selection.selection_set)

    collect(operation.selection_set)
    return len(keys)


def rate_limit_key(context) -> str:
    viewer = getattr(context, "viewer", None)
    if viewer is not None and viewer.user_id is not None:
        return f"user:{viewer.user_id}"
    client = getattr(getattr(context, "request", None), "client", None)
    return f"ip:{client.host if client else 'unknown'}"


def rate_limited_error(decision: Decision, limiter: RateLimiter) -> GraphQLError:
    if decision.retry_after is None:
        return GraphQLError(
            f"This operation has more mutations than the rate limit allows "
            f"({limiter.limit} per {limiter.window:g} s)",
            extensions={"code": ErrorCode.RATE_LIMITED.value},
        )
    seconds = max(1, math.ceil(decision.retry_after))
    return GraphQLError(
        f"Too many mutations (or recommendation slates): try again in {seconds} s",
        extensions={"code": ErrorCode.RATE_LIMITED.value, "retryAfter": seconds},
    )


class MutationRateLimit(SchemaExtension):
    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        cost = self._writes(context)
        if cost:
            decision = await self.limiter.hit(rate_limit_key(context.context), cost)
            if not decision.allowed:
                error = rate_limited_error(decision, self.limiter)
                # A result set before execution makes Strawberry skip executing.
                context.result = ExecutionResult(data=None, errors=[error])
                response = getattr(context.context, "response", None)
                if isinstance(response, Response):
                    response.status_code = 429
                    if "retryAfter" in error.extensions:
                        response.headers["Retry-After"] = str(error.extensions["retryAfter"])
        yield

    @staticmethod
    def _writes(context) -> int:
        """How many writes the operation counts for (0: not throttled)."""
        document = context.graphql_document
        operation = get_operation_ast(document, context.operation_name) if document else None
        if context.operation_type is OperationType.MUTATION:
            return max(1, root_field_count(document, operation)) if operation else 1
        if context.operation_type is not OperationType.QUERY or operation is None:
            return 0
        root = context.schema._schema.query_type
        return root_field_count(document, operation, lambda name: writes(root.fields.get(name)))
