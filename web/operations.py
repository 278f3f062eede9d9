"""What a request document will run, read without executing it (for transport decisions)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from graphql import FieldNode, GraphQLError, OperationDefinitionNode, OperationType, parse


@dataclass(frozen=True, slots=True)
class OperationShape:
    """The operation a document runs: its type and its root field names (None where a
    root selection is a fragment, whose fields are not looked into)."""

    type: OperationType
    root_fields: tuple[str | None, ...]


@lru_cache(maxsize=1024)
def operation_shape(query: str, operation_name: str | None) -> OperationShape | None:
    """None when the document does not parse or does not name exactly one operation to run
    (GraphQL execution then reports the error itself)."""
    try:
        document = parse(query)
    except GraphQLError:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1:
        return None
    operation = operations[0]
    return OperationShape(
        type=operation.operation,
        root_fields=tuple(
            s.name.value if isinstance(s, FieldNode) else None
            for s in operation.selection_set.selections
        ),
    )
