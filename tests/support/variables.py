"""Variable values for a document's variable definitions, from the types in the schema and
a pool of ids that exist in the seeded database (chosen by the variable's name)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    OperationDefinitionNode,
    type_from_ast,
)


@dataclass
class IdPool:
    """Global ids (and event ids) known to exist, by kind."""

    ids: dict[str, list[str]] = field(default_factory=dict)

    def pick(self, name: str, index: int) -> str:
        lowered = name.lower()
        for kind in ("order", "user", "session", "chat", "event", "interaction", "product"):
            if kind in lowered and self.ids.get(kind):
                values = self.ids[kind]
                return values[index % len(values)]
        values = self.ids.get("product") or ["UHJvZHVjdDox"]
        return values[index % len(values)]


SCALARS = {
    "String": ("trail", "Lamp"),
    "Int": (2, 5),
    "Float": (1.5, 0.5),
    "Boolean": (True, False),
    "Decimal": ("25.00", "150"),
    "DateTime": ("2026-01-01T00:00:00+00:00", "2020-01-01T00:00:00+00:00"),
    "Date": ("2026-01-01", "2020-01-01"),
    "JSON": ({"colour": "red"}, {"size": 2}),
}
NAMED_INTS = {"first": (5, 3), "last": (5, 2), "quantity": (1, 2), "limit": (3, 5)}
NAMED_STRINGS = {
    "after": (None, None),
    "before": (None, None),
    "idempotencykey": ("diff-key-1", "diff-key-2"),
    "key": ("diff-key-1", "diff-key-2"),
    "search": ("trail", "lamp"),
    "text": ("hello", "hi there"),
    "name": ("Diff", "Other name"),
    "email": ("diff@example.com", "other@example.com"),
}


def value_for(type_: GraphQLInputType, name: str, variant: int, ids: IdPool, depth: int = 0) -> Any:
    """A value of `type_`; variant 0 is minimal (required parts only), 1 is fuller."""
    non_null = isinstance(type_, GraphQLNonNull)
    inner = type_.of_type if non_null else type_
    if isinstance(inner, GraphQLList):
        return [value_for(inner.of_type, name, variant, ids, depth + 1)]
    if isinstance(inner, GraphQLEnumType):
        values = list(inner.values)
        return values[0] if variant == 0 else values[-1]
    if isinstance(inner, GraphQLInputObjectType):
        result = {}
        for field_name, input_field in inner.fields.items():
            required = isinstance(input_field.type, GraphQLNonNull)
            if required or (variant == 1 and depth < 2):
                value = value_for(input_field.type, field_name, variant, ids, depth + 1)
                if value is not None or not required:
                    result[field_name] = value
        return result
    assert isinstance(inner, GraphQLScalarType)
    lowered = name.lower()
    if inner.name == "ID":
        return ids.pick(name, variant)
    if inner.name == "Int" and lowered in NAMED_INTS:
        return NAMED_INTS[lowered][variant]
    if inner.name == "String" and lowered in NAMED_STRINGS:
        value = NAMED_STRINGS[lowered][variant]
        return value if value is not None or not non_null else "x"
    if inner.name in SCALARS:
        return SCALARS[inner.name][variant]
    return "1"


def variables_for(
    schema: GraphQLSchema, operation: OperationDefinitionNode, variant: int, ids: IdPool
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        type_ = type_from_ast(schema, definition.type)
        required = isinstance(type_, GraphQLNonNull) and definition.default_value is None
        if required or variant == 1:
            values[name] = value_for(type_, name, variant, ids)
    return values
