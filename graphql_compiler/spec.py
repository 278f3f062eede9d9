"""What compiled code knows statically about a field, and the compiler's own error."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLObjectType


class CompileError(Exception):
    """The operation uses something the compiler does not handle (the reason is the text)."""


class FieldSpec:
    """What is static about one field group of one parent type."""

    __slots__ = ("details", "field_def", "key", "name", "nodes", "parent_type", "return_type")

    def __init__(self, key: str, parent_type: GraphQLObjectType, field_def: Any, details: list):
        self.key = key
        self.parent_type = parent_type
        self.field_def = field_def
        self.details = details
        self.nodes = [d.node for d in details]
        self.name = self.nodes[0].name.value
        self.return_type = field_def.type
