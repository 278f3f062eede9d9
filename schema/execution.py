"""How operations execute: the compiled executor (`graphql_compiler`) or graphql-core.

With `GRAPHQL_EXECUTOR=compiled` (the default) the schema's executor class becomes a
subclass of Strawberry's own whose `execute_operation` runs the operation as code compiled
once per document (and operation name), so every extension (limits, cost, validation, rate
limit, error policy, metrics), the context and Strawberry's `info` stay exactly as they
are; only the walk over the selected fields changes. Subscriptions keep graphql-core for
their source stream, and each event runs the compiled code (graphql-core executes events
through the same `execute_operation`). What the compiler does not support runs on
graphql-core and is counted in `shopgraph_graphql_executor_fallbacks_total{reason}`.
"""

from __future__ import annotations

import strawberry

from core.metrics import count_executor_fallback
from core.settings import Settings
from graphql_compiler import ExecutionCompiler

# Distinct documents kept compiled; a document's entry is a few generated functions.
MAX_COMPILED_DOCUMENTS = 512
# The parser and validation caches keep documents up to this length (schema/errors.py);
# longer ones are executed by graphql-core, like the one-off documents they usually are.
MAX_COMPILED_DOCUMENT_LENGTH = 10_000


def install_executor(schema: strawberry.Schema, settings: Settings) -> ExecutionCompiler | None:
    """Make `schema` execute compiled operations, unless settings ask for the reference."""
    if settings.graphql_executor != "compiled":
        return None
    compiler = ExecutionCompiler(
        schema._schema,
        max_documents=MAX_COMPILED_DOCUMENTS,
        max_document_length=MAX_COMPILED_DOCUMENT_LENGTH,
        on_fallback=count_executor_fallback,
    )
    schema.execution_context_class = compiler.executor_class(schema.execution_context_class)
    schema.compiler = compiler  # type: ignore[attr-defined]
    return compiler


def compiler_of(schema: strawberry.Schema) -> ExecutionCompiler | None:
    return getattr(schema, "compiler", None)


def warm_document(
    schema: strawberry.Schema, source: str, operation_name: str | None = None
) -> str | None:
    """Compile a document ahead of use (trusted or persisted documents) and keep it
    compiled; returns its sha256 `document_hash`, or None with the reference executor."""
    compiler = compiler_of(schema)
    if compiler is None:
        return None
    return compiler.warm(source, operation_name)
