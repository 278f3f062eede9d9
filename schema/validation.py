"""Validation of GraphQL documents: graphql-core's rules, cached, and quiet about the schema.

This replaces Strawberry's `ValidationCache` for two reasons:
- with introspection off, graphql-core is asked to leave out its "Did you mean ...?"
  suggestions (`hide_suggestions`), which would otherwise leak field, argument, type and
  enum names to schema-guessing tools such as clairvoyance;
- a document already refused (by `QueryLimitsExtension`) is not validated at all, so an
  abusive document never reaches the costlier rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, validate
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule


@lru_cache(maxsize=1024)
def _validate(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: tuple[type[ASTValidationRule], ...],
    hide_suggestions: bool,
) -> list[GraphQLError]:
    # Strawberry's own `validate_document` adds these two rules; keep them.
    rules = (*rules, MaybeNullValidationRule, OneOfInputValidationRule)
    return validate(schema, document, rules, hide_suggestions=hide_suggestions)


class Validation(SchemaExtension):
    """Validate unless an earlier extension already refused the document."""

    def __init__(self, *, hide_suggestions: bool) -> None:
        self.hide_suggestions = hide_suggestions

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.pre_execution_errors is None and context.graphql_document is not None:
            cached = _validate(
                context.schema._schema,
                context.graphql_document,
                tuple(context.validation_rules),
                self.hide_suggestions,
            )
            context.pre_execution_errors = list(cached)
        yield
