"""Validation of GraphQL documents: graphql-core's rules, cached, and quiet about the schema.

This replaces Strawberry's `ValidationCache` for three reasons:
- with introspection off, graphql-core is asked to leave out its "Did you mean ...?"
  suggestions (`hide_suggestions`), which would otherwise leak field, argument, type and
  enum names to schema-guessing tools such as clairvoyance;
- a document already refused (by `QueryLimitsExtension`) is not validated at all, so an
  abusive document never reaches the costlier rules;
- strings that cannot be stored (`core.json_values.text_problem`: a NUL character or a
  lone surrogate), in the document or anywhere in the variables, are refused with
  BAD_USER_INPUT: PostgreSQL cannot store them in text or JSONB, orjson cannot encode a lone
  surrogate, so they would otherwise fail deep in a query or a background writer (found by
  the fuzzer and by an attack on the decision log), and SQLite would accept them.
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


def _validate(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: tuple[type[ASTValidationRule], ...],
    hide_suggestions: bool,
) -> list[GraphQLError]:
    # Strawberry's own `validate_document` adds these two rules; keep them.
    rules = (*rules, MaybeNullValidationRule, OneOfInputValidationRule, StorableStringsRule)
    return validate(schema, document, rules, hide_suggestions=hide_suggestions)


class Validation(SchemaExtension):
    """Validate unless an earlier extension already refused the document."""

    def __init__(self, *, hide_suggestions: bool, cache: DocumentMemo | None = None) -> None:
        self.hide_suggestions = hide_suggestions
        # Shared by the extension instances of one schema (one is made per request).
        self.cache = cache

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.pre_execution_errors is None and (
            problem := _text_problem_in(context.variables)
        ):
            context.pre_execution_errors = [
                GraphQLError(problem, extensions={"code": ErrorCode.BAD_USER_INPUT.value})
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
