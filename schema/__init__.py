"""The GraphQL schema: types, root fields and the extensions that guard them."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import DisableIntrospection, MaxTokensLimiter
from strawberry.schema.config import StrawberryConfig

from core.rate_limit import RateLimiter
from core.settings import Settings
from schema.document_cache import DocumentMemo
from schema.errors import ErrorPolicy, SafeParserCache
from schema.execution import install_executor
from schema.fast_fields import speed_up_basic_fields
from schema.limits import QueryLimits, QueryLimitsExtension
from schema.mutation import Mutation
from schema.observability import OperationMetrics
from schema.query import Query
from schema.scalars import SCALAR_OVERRIDES
from schema.subscription import Subscription
from schema.throttle import MutationRateLimit
from schema.validation import Validation


class ShopSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        # Strawberry logs every error with a traceback. Expected errors (bad input, missing
        # rows) are not server problems; unexpected ones are logged by `ErrorPolicy`.
        return None


def query_limits(settings: Settings) -> QueryLimits:
    return QueryLimits(
        max_depth=settings.graphql_max_depth,
        max_aliases=settings.graphql_max_aliases,
        max_directives=settings.graphql_max_directives,
        max_cost=settings.graphql_max_cost,
        max_page_size=settings.max_page_size,
    )


def build_schema(
    settings: Settings | None = None, *, rate_limiter: RateLimiter | None = None
) -> strawberry.Schema:
    """The schema with its guards, in order (each hook list runs top to bottom):

    metrics (first, so it sees the final error codes) → token limit and parser cache →
    depth/alias/directive/cost limits (before validation, so abusive documents are refused
    after one linear walk) → validation (cached; no suggestions when introspection is off)
    → mutation rate limit → error policy (codes, masking).
    """
    settings = settings or Settings()
    hide_suggestions = not settings.introspection_enabled
    limits = query_limits(settings)
    # Per-document results (limits measures, validation errors) shared across requests.
    measures: DocumentMemo = DocumentMemo(maxsize=1024)
    validations: DocumentMemo = DocumentMemo(maxsize=1024)
    extensions: list[Any] = [
        OperationMetrics,
        lambda: MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
        lambda: SafeParserCache(maxsize=1024),
        lambda: QueryLimitsExtension(limits, cache=measures),
    ]
    if not settings.introspection_enabled:
        extensions.append(DisableIntrospection)
    extensions.append(lambda: Validation(hide_suggestions=hide_suggestions, cache=validations))
    if rate_limiter is not None:
        extensions.append(lambda: MutationRateLimit(rate_limiter))
    extensions.append(
        lambda: ErrorPolicy(expose_details=settings.is_dev, hide_suggestions=hide_suggestions)
    )
    schema = ShopSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(relay_max_results=100),
        scalar_overrides=SCALAR_OVERRIDES,
    )
    schema.document_caches = {"limits": measures, "validation": validations}  # type: ignore[attr-defined]
    speed_up_basic_fields(schema)
    install_executor(schema, settings)
    return schema


__all__ = ["build_schema"]
