"""graphql_compiler: compiled execution of GraphQL operations for graphql-core 3.3.

In the spirit of graphql-jit: an operation (a validated document and an operation name) is
compiled once against a `GraphQLSchema` into generated Python functions, one per object
type and field group, and cached. graphql-core stays the reference: it still builds the
executor (selects the operation, coerces variables) and anything the compiler does not
support runs on graphql-core itself, each time reported to `on_fallback(reason)`.

    compiler = ExecutionCompiler(schema, on_fallback=count)
    result = await execute(schema, document, executor_class=compiler.executor_class())

What it skips: per-field lookup of the field definition and resolver, `collect_fields`
and `collect_subfields` per object, `complete_value`'s type dispatch, `GraphQLResolveInfo`
for resolvers hinted as attribute or source readers (`hints.py`) and for hinted
`is_type_of`, and `coerce_output_value` for built-in scalars already of the right class.

What it keeps, exactly as graphql-core: results and their key order; errors (messages,
paths, locations, order), null propagation through non-null fields and list items; the
`@skip`/`@include` conditions, with variables (one compiled variant per combination);
fragments, inline fragments and abstract types (`resolve_type`, `is_type_of`, runtime type
validation); `__typename`; resolvers' `info` (built by the executor's own
`build_resolve_info`, so a framework's subclass is honoured); and the awaiting structure
(one awaitable awaited directly, several gathered with `gather_with_cancel` in order), so
concurrency and DataLoader batching are unchanged. Root mutation fields run serially.

Falls back to graphql-core (see `executor.REASONS`) for: field middleware, an abort
signal, `@experimental_disableErrorPropagation`, schemas with `@defer`/`@stream`,
fragments with variable definitions, documents without source locations or longer than
`max_document_length`, more than `max_variants` `@skip`/`@include` combinations, selections
nested past the recursion limit, and any error while compiling (logged). List values that
are async iterables are completed by graphql-core's own `complete_list_value` in place.

The package imports graphql-core and the standard library only.
"""

from graphql_compiler.executor import REASONS, ExecutionCompiler, document_hash
from graphql_compiler.hints import attribute_reader, info_free, source_resolver

__all__ = [
    "REASONS",
    "ExecutionCompiler",
    "attribute_reader",
    "document_hash",
    "info_free",
    "source_resolver",
]
