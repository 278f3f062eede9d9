"""Validation of GraphQL documents: graphql-core's rules, cached, and quiet about the schema.

This replaces Strawberry's `ValidationCache` for three reasons:
- with introspection off, graphql-core is asked to leave out its "Did you mean ...?"
  suggestions (`hide_suggestions`), which would otherwise leak field, argument, type and
  enum names to schema-guessing tools such as clairvoyance;
- a document already refused (by `QueryLimitsExtension`) is not validated at all, so an
  abusive document never reaches the costlier rules;
- strings holding a NUL character (U+0000), in the document or in the variables, are
  refused with BAD_USER_INPUT: PostgreSQL cannot store them in text or JSONB, so they would
  otherwise fail deep in a query (found by the fuzzer), and SQLite would accept them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
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
from schema.document_cache import DocumentMemo
from schema.errors import MAX_CACHED_QUERY_LENGTH

NUL = "\x00"
NUL_MESSAGE = "Strings must not contain the NUL character (U+0000)"


class NoNulCharactersRule(ValidationRule):
    def enter_string_value(self, node: StringValueNode, *_args: Any) -> None:
        if NUL in node.value:
            self.report_error(
                GraphQLError(NUL_MESSAGE, node, extensions={"code": ErrorCode.BAD_USER_INPUT.value})
            )


def _has_nul(value: Any) -> bool:
    """Whether a NUL is in any string (or object key) of decoded JSON; iterative, since
    variables may be nested deeper than Python's recursion limit."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                return True
        elif isinstance(item, Mapping):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _validate(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: tuple[type[ASTValidationRule], ...],
    hide_suggestions: bool,
) -> list[GraphQLError]:
    # Strawberry's own `validate_document` adds these two rules; keep them.
    rules = (*rules, MaybeNullValidationRule, OneOfInputValidationRule, NoNulCharactersRule)
    return validate(schema, document, rules, hide_suggestions=hide_suggestions)


class Validation(SchemaExtension):
    """Validate unless an earlier extension already refused the document."""

    def __init__(self, *, hide_suggestions: bool, cache: DocumentMemo | None = None) -> None:
        self.hide_suggestions = hide_suggestions
        # Shared by the extension instances of one schema (one is made per request).
        self.cache = cache

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.pre_execution_errors is None and _has_nul(context.variables):
            context.pre_execution_errors = [
                GraphQLError(NUL_MESSAGE, extensions={"code": ErrorCode.BAD_USER_INPUT.value})
            ]
        if context.pre_execution_errors is None and context.graphql_document is not None:
            document = context.graphql_document
            rules = tuple(context.validation_rules)

            def run() -> list[GraphQLError]:
                return _validate(context.schema._schema, document, rules, self.hide_suggestions)

            large = len(context.query or "") > MAX_CACHED_QUERY_LENGTH
            if large or self.cache is None:
                errors = run()
            else:
                errors = self.cache.get(document, (rules, self.hide_suggestions), run)
            context.pre_execution_errors = list(errors)
        yield
