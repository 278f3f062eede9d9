"""The compiled executor: a graphql-core `Executor` subclass whose `execute_operation` runs
a compiled plan, and the bounded cache of plans (one per document and operation name).

graphql-core still builds the executor (operation selection, variable coercion), so
request errors are its own; only the execution of the selected operation is replaced.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    parse,
)
from graphql.execution.collect_fields import FragmentDetails
from graphql.execution.executor import Executor
from graphql.execution.values import VariableValues
from graphql.pyutils import async_reduce

from graphql_compiler.plan import Builder
from graphql_compiler.spec import CompileError

logger = logging.getLogger("graphql_compiler")

_MISSING = object()
MAX_REMEMBERED_FAILURES = 64  # per document
CONDITION_DIRECTIVES = ("skip", "include")

# Why an execution ran on graphql-core instead (the label of the fallback counter).
REASONS = (
    "middleware",  # field middleware wraps resolvers: graphql-core applies it
    "abort_signal",  # cancellation of a running operation
    "error_propagation_disabled",  # @experimental_disableErrorPropagation
    "incremental_delivery",  # @defer / @stream in the schema
    "fragment_arguments",  # fragments with variable definitions (experimental syntax)
    "no_root_type",  # the schema has no root type for the operation (graphql-core errs)
    "nested_too_deeply",  # selections nested past Python's recursion limit
    "document_too_large",  # not cached, to bound memory; run once by graphql-core
    "condition_variants",  # too many distinct @skip/@include variable combinations
    "foreign_schema",  # an executor built for another schema
    "compile_error",  # a bug in the compiler: logged with its traceback
)


def document_hash(source: str) -> str:
    """The sha256 hex digest of a document's text (how persisted documents name it)."""
    return hashlib.sha256(source.encode()).hexdigest()


def _condition_variables(document: DocumentNode) -> tuple[str, ...]:
    """Variables that `@skip(if:)`/`@include(if:)` read anywhere in the document."""
    names: list[str] = []

    def visit(selection_set: SelectionSetNode | None) -> None:
        for selection in selection_set.selections if selection_set else ():
            for directive in selection.directives or ():
                if directive.name.value in CONDITION_DIRECTIVES:
                    for argument in directive.arguments or ():
                        value = argument.value
                        if isinstance(value, VariableNode) and value.name.value not in names:
                            names.append(value.name.value)
            if isinstance(selection, (FieldNode, InlineFragmentNode)):
                visit(selection.selection_set)

    for definition in document.definitions:
        if isinstance(definition, (OperationDefinitionNode, FragmentDefinitionNode)):
            visit(definition.selection_set)
    return tuple(names)


def run_serially(ex: Any, root_value: Any, fields: list[tuple[str, Any]]) -> Any:
    """graphql-core's `execute_fields_serially` over compiled root fields."""
    is_awaitable = ex.is_awaitable

    def reducer(results: dict[str, Any], item: tuple[str, Any]) -> Any:
        key, field_fn = item
        result = field_fn(ex, root_value, None)
        if is_awaitable(result):

            async def set_result() -> dict[str, Any]:
                results[key] = await result
                return results

            return set_result()
        results[key] = result
        return results

    return async_reduce(reducer, fields, {})


class CompiledOperation:
    """One operation compiled for one combination of condition variables."""

    __slots__ = ("functions", "parallel", "serial")

    def __init__(self, builder: Builder, root_type: Any) -> None:
        self.parallel, self.serial = builder.root(root_type)
        self.functions = builder.functions

    def execute(self, ex: Executor, serially: bool | None) -> Any:
        """graphql-core's `Executor.execute_operation`, with the compiled root."""
        if serially is None:
            serially = ex.operation.operation == OperationType.MUTATION
        try:
            if serially:
                result = run_serially(ex, ex.root_value, self.serial)
            else:
                result = self.parallel(ex, ex.root_value, None)
            if ex.is_awaitable(result):
                return _await_result(ex, result)
            data = result
        except GraphQLError as error:
            ex.collected_errors.add(error, None)
            return ex.finish(ex.build_response(None))
        return ex.finish(ex.build_response(data))


async def _await_result(ex: Executor, result: Any) -> Any:
    try:
        data = await result
    except GraphQLError as error:
        ex.collected_errors.add(error, None)
        return ex.build_response(None)
    except Exception:
        await ex.cancel_incremental_work()
        ex.run_async_work_finished_hook()
        raise
    return ex.build_response(data)


class CompiledDocument:
    """A document's operation, compiled lazily per combination of the variables that
    `@skip`/`@include` read (usually none, so one variant)."""

    def __init__(self, compiler: ExecutionCompiler, source: str, operation_name: str | None):
        self.compiler = compiler
        self.source = source
        self.operation_name = operation_name
        self.hash = document_hash(source)
        self.conditions: tuple[str, ...] | None = None
        self.variants: dict[tuple, CompiledOperation] = {}
        # Variants that could not be compiled, with the reason: not tried (or logged) again.
        self.failed: dict[tuple, str] = {}

    def variant(self, ex: Executor) -> CompiledOperation:
        if self.conditions is None:
            self.conditions = _condition_variables(_document_of(ex))
        coerced = ex.variable_values.coerced
        try:
            key = tuple(coerced.get(name, _MISSING) for name in self.conditions)
            compiled = self.variants.get(key)
        except TypeError:  # an unhashable condition value (validation should refuse it)
            raise CompileError("compile_error") from None
        if compiled is not None:
            return compiled
        if key in self.failed:
            raise CompileError(self.failed[key])
        try:
            return self._compile(ex, key, coerced)
        except CompileError as exc:
            self._remember_failure(key, str(exc))
            raise
        except RecursionError:
            self._remember_failure(key, "nested_too_deeply")
            raise CompileError("nested_too_deeply") from None
        except Exception:
            logger.exception("graphql_compiler: compiling an operation failed")
            self._remember_failure(key, "compile_error")
            raise CompileError("compile_error") from None

    def _compile(self, ex: Executor, key: tuple, coerced: dict[str, Any]) -> CompiledOperation:
        if len(self.variants) >= self.compiler.max_variants:
            raise CompileError("condition_variants")
        assert self.conditions is not None
        values = VariableValues(
            {n: ex.variable_values.sources[n] for n in self.conditions if n in coerced},
            {n: coerced[n] for n in self.conditions if n in coerced},
        )
        root_type = ex.schema.get_root_type(ex.operation.operation)
        if root_type is None:
            raise CompileError("no_root_type")
        builder = Builder(ex.schema, ex.fragments, ex.operation, values, ex.hide_suggestions)
        compiled = self.variants[key] = CompiledOperation(builder, root_type)
        return compiled

    def _remember_failure(self, key: tuple, reason: str) -> None:
        if len(self.failed) < MAX_REMEMBERED_FAILURES:
            self.failed[key] = reason


def _document_of(ex: Executor) -> DocumentNode:
    # The executor keeps the operation and fragments, not the document.
    return DocumentNode(definitions=(ex.operation, *ex.fragment_definitions.values()))


class ExecutionCompiler:
    """Compiled plans for one schema, with a bounded LRU cache keyed by document text and
    operation name; warmed documents (e.g. persisted ones) are pinned and never evicted.

    `on_fallback(reason)` is called for every execution left to graphql-core."""

    def __init__(
        self,
        schema: GraphQLSchema,
        *,
        max_documents: int = 512,
        max_document_length: int = 20_000,
        max_variants: int = 16,
        on_fallback: Callable[[str], None] | None = None,
    ) -> None:
        self.schema = schema
        self.max_documents = max_documents
        self.max_document_length = max_document_length
        self.max_variants = max_variants
        self.on_fallback = on_fallback
        self.incremental = bool(schema.get_directive("defer") or schema.get_directive("stream"))
        self._documents: OrderedDict[tuple[str, str | None], CompiledDocument] = OrderedDict()
        self._pinned: dict[tuple[str, str | None], CompiledDocument] = {}
        self._by_hash: dict[str, CompiledDocument] = {}
        self.fallbacks: dict[str, int] = dict.fromkeys(REASONS, 0)
        self.compiled = 0

    def executor_class(self, base: type[Executor] = Executor) -> type[Executor]:
        """A subclass of `base` (graphql-core's `Executor` or a subclass, such as the one a
        framework passes as `executor_class`) that runs compiled plans."""
        compiler = self

        class CompiledExecutor(base):  # type: ignore[misc, valid-type]
            def execute_operation(self, serially: bool | None = None) -> Any:
                compiled = compiler.plan_for(self)
                if compiled is None:
                    return super().execute_operation(serially)
                return compiled.execute(self, serially)

        CompiledExecutor.__name__ = f"Compiled{base.__name__}"
        CompiledExecutor.__qualname__ = CompiledExecutor.__name__
        return CompiledExecutor

    # --- the cache ------------------------------------------------------------------

    def plan_for(self, ex: Executor) -> CompiledOperation | None:
        """The compiled plan for this execution, or None (counted) to let graphql-core run."""
        reason = self._unsupported(ex)
        if reason is None:
            try:
                document = self._document(ex)
                if document is None:
                    reason = "document_too_large"
                else:
                    return document.variant(ex)
            except CompileError as exc:
                reason = str(exc)
            except RecursionError:
                reason = "nested_too_deeply"
            except Exception:
                logger.exception("graphql_compiler: compiling an operation failed")
                reason = "compile_error"
        self.fallback(reason)
        return None

    def fallback(self, reason: str) -> None:
        self.fallbacks[reason] = self.fallbacks.get(reason, 0) + 1
        if self.on_fallback is not None:
            self.on_fallback(reason)

    def _unsupported(self, ex: Executor) -> str | None:
        if ex.schema is not self.schema:
            return "foreign_schema"
        manager = ex.middleware_manager
        if manager is not None and manager.middlewares:
            return "middleware"
        if ex.abort_signal is not None:
            return "abort_signal"
        if not ex.error_propagation:
            return "error_propagation_disabled"
        if self.incremental:
            return "incremental_delivery"
        if any(f.variable_signatures is not None for f in ex.fragments.values()):
            return "fragment_arguments"
        return None

    def _document(self, ex: Executor) -> CompiledDocument | None:
        operation = ex.operation
        loc = operation.loc
        if loc is None:
            return None  # a document built without locations: no text to key it by
        source = loc.source.body
        name = operation.name.value if operation.name else None
        key = (source, name)
        document = self._pinned.get(key)
        if document is not None:
            return document
        documents = self._documents
        document = documents.get(key)
        if document is not None:
            documents.move_to_end(key)
            return document
        if len(source) > self.max_document_length:
            return None
        document = documents[key] = CompiledDocument(self, source, name)
        self.compiled += 1
        while len(documents) > self.max_documents:
            _key, evicted = documents.popitem(last=False)
            if self._by_hash.get(evicted.hash) is evicted:
                del self._by_hash[evicted.hash]
        self._by_hash.setdefault(document.hash, document)
        return document

    def warm(self, source: str, operation_name: str | None = None) -> str:
        """Compile `source` ahead of use (e.g. a persisted document) and pin it in the
        cache; returns its `document_hash`. Operations whose `@skip`/`@include` read
        variables are compiled per combination on first use."""
        document = parse(source)
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if operation_name is None and len(operations) == 1 and operations[0].name:
            operation_name = operations[0].name.value
        selected = [
            o for o in operations if (o.name.value if o.name else None) == operation_name
        ] or operations[:1]
        if not selected:
            raise GraphQLError("Must provide an operation.")
        key = (source, operation_name)
        compiled = self._pinned.get(key) or CompiledDocument(self, source, operation_name)
        self._pinned[key] = compiled
        self._by_hash[compiled.hash] = compiled
        operation = selected[0]
        compiled.conditions = _condition_variables(document)
        if not compiled.conditions and () not in compiled.variants:
            root_type = self.schema.get_root_type(operation.operation)
            if root_type is not None:
                fragments = {
                    d.name.value: FragmentDetails(d)
                    for d in document.definitions
                    if isinstance(d, FragmentDefinitionNode)
                }
                builder = Builder(self.schema, fragments, operation, VariableValues({}, {}), False)
                compiled.variants[()] = CompiledOperation(builder, root_type)
        return compiled.hash

    def is_compiled(self, hash_: str) -> bool:
        """Whether a document with this `document_hash` is in the cache."""
        return hash_ in self._by_hash

    def __len__(self) -> int:
        return len(self._documents) + len(self._pinned)
