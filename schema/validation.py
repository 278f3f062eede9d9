"""Validation of GraphQL documents: graphql-core's rules, cached, and quiet about the schema.

This replaces Strawberry's `ValidationCache` for three reasons:
- with introspection off, graphql-core is asked to leave out its "Did you mean ...?"
  suggestions (`hide_suggestions`), which would otherwise leak field, argument, type and
  enum names to schema-guessing tools such as clairvoyance;
- a document already refused (by `QueryLimitsExtension`) is not validated at all, so an
  abusive document never reaches the costlier rules;
- a prepared document (`schema.documents`: a persisted one, or one registered by APQ) was
  validated when it was registered, with the same rules: it is not validated again;
- strings that cannot be stored (`core.json_values.text_problem`: a NUL character or a
  lone surrogate), in the document or anywhere in the variables, are refused with
  BAD_USER_INPUT: PostgreSQL cannot store them in text or JSONB, orjson cannot encode a lone
  surrogate, so they would otherwise fail deep in a query or a background writer (found by
  the fuzzer and by an attack on the decision log), and SQLite would accept them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    StringValueNode,
    ValidationRule,
    validate,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from core.errors import ErrorCode
from core.json_values import text_problem
from schema.document_cache import DocumentMemo
from schema.errors import MAX_CACHED_QUERY_LENGTH


class StorableStringsRule(ValidationRule):
    def enter_string_value(self, node: StringValueNode, *_args: Any) -> None:
        if problem := text_problem(node.value):
            self.report_error(
                GraphQLError(problem, node, extensions={"code": ErrorCode.BAD_USER_INPUT.value})
            )


def _text_problem_in(value: Any) -> str | None:
    """Why a string (or object key) somewhere in decoded JSON cannot be stored, or None;
    iterative, since variables may be nested deeper than Python's recursion limit."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if problem := text_problem(item):
                return problem
        elif isinstance(item, Mapping):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def validate_document(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: tuple[type[ASTValidationRule], ...],
    hide_suggestions: bool,
) -> list[GraphQLError]:
    """graphql-core's validation with our rules (no cache: see `ValidationCache`)."""
    # Strawberry's own `validate_document` adds these two rules; keep them.
    rules = (*rules, MaybeNullValidationRule, OneOfInputValidationRule, StorableStringsRule)
    return validate(schema, document, rules, hide_suggestions=hide_suggestions)


class ValidationCache:
    """Validation errors per document, keyed by the document's identity (`DocumentMemo`):
    an `lru_cache` over a document hashed it node by node on every request (about 1 ms for
    a catalog page). One per schema, shared by the extensions of every request."""

    def __init__(self, maxsize: int = 1024) -> None:
        self._memo: DocumentMemo[list[GraphQLError]] = DocumentMemo(maxsize=maxsize)

    def __len__(self) -> int:
        return len(self._memo)

    @property
    def misses(self) -> int:
        return self._memo.misses

    def errors(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        rules: tuple[type[ASTValidationRule], ...],
        *,
        hide_suggestions: bool,
        cacheable: bool = True,
    ) -> list[GraphQLError]:
        def run() -> list[GraphQLError]:
            return validate_document(schema, document, rules, hide_suggestions)

        if not cacheable:
            return run()
        return self._memo.get(document, (rules, hide_suggestions), run)


class Validation(SchemaExtension):
    """Validate unless an earlier extension already refused the document, or the document
    is a prepared one (`is_prepared`)."""

    def __init__(
        self,
        *,
        hide_suggestions: bool,
        cache: ValidationCache,
        is_prepared: Callable[[str, DocumentNode], bool],
    ) -> None:
        self.hide_suggestions = hide_suggestions
        self.cache = cache
        self.is_prepared = is_prepared

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.pre_execution_errors is None and (
            problem := _text_problem_in(context.variables)
        ):
            context.pre_execution_errors = [
                GraphQLError(problem, extensions={"code": ErrorCode.BAD_USER_INPUT.value})
            ]
        document = context.graphql_document
        if context.pre_execution_errors is None and document is not None:
            if self.is_prepared(context.query or "", document):
                errors: list[GraphQLError] = []  # validated when registered, same rules
            else:
                errors = self.cache.errors(
                    context.schema._schema,
                    document,
                    tuple(context.validation_rules),
                    hide_suggestions=self.hide_suggestions,
                    cacheable=len(context.query or "") <= MAX_CACHED_QUERY_LENGTH,
                )
            context.pre_execution_errors = list(errors)
        yield
