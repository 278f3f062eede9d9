"""Fields that write although they are not mutations: one marker, read by the cost model
(schema/limits.py) and the rate limit (schema/throttle.py).

`recommendations` logs a decision (the slate, its propensities, the candidates' state: a few
KB) every time it runs, so a query of 30 aliased slates wrote 30 rows for a cost of 30.
A writing field costs `WRITE_COST` on top of what it selects, and each one counts against
the mutation rate limit like a mutation does.
"""

from __future__ import annotations

from graphql import GraphQLField

WRITES = "writes"  # a key of strawberry.field(metadata=...)
# At the default limit of 1,000, at most 19 slates fit in one operation.
WRITE_COST = 50

WRITING_FIELD = {WRITES: True}


def writes(definition: GraphQLField | None) -> bool:
    """Whether the schema marks this field as writing."""
    if definition is None or not definition.extensions:
        return False
    field = definition.extensions.get("strawberry-definition")
    metadata = getattr(field, "metadata", None) or {}
    return bool(metadata.get(WRITES))
