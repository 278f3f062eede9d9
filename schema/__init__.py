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
from schema.documents import DocumentRegistry, PersistedDocumentParser
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
from schema.validation import Validation, ValidationCache


class ShopSchema(strawberry.Schema):
    # Prepared (persisted and APQ) documents of this schema; set by `build_schema`.
    documents: DocumentRegistry

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
) -> ShopSchema:
    """The schema with its guards, in order (each hook list runs top to bottom):

    metrics (first, so it sees the final error codes) → token limit, prepared documents
    (persisted and APQ: no parse; in trusted mode nothing else) and parser cache →
    depth/alias/directive/cost limits (before validation, so abusive documents are refused
    after one linear walk) → validation (cached, skipped for prepared documents; no
    suggestions when introspection is off) → mutation rate limit → error policy (codes,
    masking, one generic error for invalid requests when the schema is private).
    """
    settings = settings or Settings()
    hide_suggestions = not settings.introspection_enabled
    private = settings.schema_is_private
    trusted_only = settings.trusted_documents_only
    limits = query_limits(settings)
    # Per-document results (limits measures, validation errors) shared across requests,
    # keyed by the parsed document's identity (schema/document_cache.py).
    measures: DocumentMemo = DocumentMemo(maxsize=1024)
    validations = ValidationCache(maxsize=1024)
    documents = DocumentRegistry(
        limits=limits,
        max_tokens=settings.graphql_max_tokens,
        introspection=settings.introspection_enabled,
        hide_suggestions=hide_suggestions,
        automatic_size=0 if trusted_only else settings.apq_cache_size,
    )
    extensions: list[Any] = [
        OperationMetrics,
        lambda: MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
        lambda: PersistedDocumentParser(documents, trusted_only=trusted_only),
        lambda: SafeParserCache(maxsize=1024),
        lambda: QueryLimitsExtension(
            limits, cache=measures, private_schema=private, validations=validations
        ),
    ]
    if not settings.introspection_enabled:
        extensions.append(DisableIntrospection)
    extensions.append(
        lambda: Validation(
            hide_suggestions=hide_suggestions,
            cache=validations,
            is_prepared=documents.is_prepared,
        )
    )
    if rate_limiter is not None:
        extensions.append(lambda: MutationRateLimit(rate_limiter))
    extensions.append(
        lambda: ErrorPolicy(
            expose_details=settings.is_dev,
            hide_suggestions=hide_suggestions,
            private_schema=private,
        )
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
    documents.bind(schema._schema)
    schema.documents = documents
    return schema


__all__ = ["build_schema"]
