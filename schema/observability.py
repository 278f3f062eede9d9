"""Prometheus metrics of GraphQL operations: count, latency, errors by code, subscriptions.

Operation names come from clients, so they are not trusted as label values: a name is
used once an operation with that name has run (parsed, validated, executed), and only for
the first `MAX_OPERATION_NAMES` such names in a process; the rest count as "other".

Must be the first extension: its `on_operation` then finishes last, after the error policy
has given every error its code. Subscriptions are counted in
`shopgraph_graphql_subscriptions_active` for as long as they stream: Strawberry runs the
operation hooks around the whole stream, so a subscription field needs no code of its own.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionContext
from strawberry.types.graphql import OperationType

from core.metrics import (
    GRAPHQL_OPERATION_DURATION,
    GRAPHQL_OPERATIONS,
    GRAPHQL_SUBSCRIPTIONS_ACTIVE,
    count_error,
)

MAX_OPERATION_NAMES = 200
_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,63}$")
_known_names: set[str] = set()


def operation_label(name: str | None, *, ran: bool) -> str:
    """The bounded label value for an operation name."""
    if not name:
        return "anonymous"
    if name in _known_names:
        return name
    if ran and len(_known_names) < MAX_OPERATION_NAMES and _NAME.match(name):
        _known_names.add(name)
        return name
    return "other"


def _operation_type(context: ExecutionContext) -> str:
    try:
        return context.operation_type.value
    except RuntimeError:  # no document, or no operation of that name
        return "unknown"


def _count_errors(result: Any) -> None:
    for error in getattr(result, "errors", None) or ():
        count_error(str((error.extensions or {}).get("code", "OTHER")))


class OperationMetrics(SchemaExtension):
    def __init__(self) -> None:
        self.subscription_started = False

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            context = self.execution_context
            kind = _operation_type(context)
            result = context.result
            ran = getattr(result, "data", None) is not None
            labels = (
                operation_label(
                    context.operation_name if kind != "unknown" else None,
                    ran=ran or self.subscription_started,
                ),
                kind,
            )
            GRAPHQL_OPERATIONS.labels(*labels).inc()
            if self.subscription_started:
                GRAPHQL_SUBSCRIPTIONS_ACTIVE.dec()
            else:
                GRAPHQL_OPERATION_DURATION.labels(*labels).observe(time.perf_counter() - started)
                _count_errors(result)

    def on_execute(self) -> Iterator[None]:
        if self.execution_context.operation_type is OperationType.SUBSCRIPTION:
            self.subscription_started = True
            GRAPHQL_SUBSCRIPTIONS_ACTIVE.inc()
        yield

    def on_stream_result(self, result: Any) -> Iterator[None]:
        # Runs around each streamed result; after the yield the error policy has coded it.
        yield
        if self.subscription_started:
            _count_errors(result)
