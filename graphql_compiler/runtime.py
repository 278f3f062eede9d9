"""Helpers the generated code calls. Each mirrors one step of graphql-core's `Executor`
(3.3) with the same error handling, the same awaiting structure (one awaitable is awaited
directly, several are gathered with `gather_with_cancel`, in field or item order) and so the
same order of errors and the same DataLoader batching."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from graphql import GraphQLError, located_error
from graphql.execution.executor import collect_iterator_awaitables
from graphql.pyutils import Path, Undefined, gather_with_cancel, inspect, is_iterable


class Call:
    """One call of a field whose value needs completing below it: what a completer needs
    to build the field's `GraphQLResolveInfo` if (and only if) something asks for it."""

    __slots__ = ("info", "path", "spec")

    def __init__(self, spec: Any, path: Path, info: Any) -> None:
        self.spec = spec
        self.path = path
        self.info = info

    def get_info(self, ex: Any) -> Any:
        info = self.info
        if info is None:
            spec = self.spec
            info = self.info = ex.build_resolve_info(
                spec.field_def, spec.nodes, spec.parent_type, self.path
            )
        return info


def field_error(ex: Any, raw: Exception, non_null: bool, nodes: list, path: Path) -> None:
    """graphql-core's `handle_field_error` (error propagation on)."""
    error = located_error(raw, nodes, path.as_list())
    if non_null:
        raise error
    ex.collected_errors.add(error, path)
    return None


async def complete_awaitable(
    ex: Any, value: Awaitable, complete: Any, non_null: bool, nodes: list, path: Path, call: Any
) -> Any:
    """`complete_awaitable_value` / `complete_awaitable_list_item_value`."""
    try:
        resolved = await value
        completed = complete(ex, resolved, path, call)
        if ex.is_awaitable(completed):
            completed = await completed
    except Exception as raw:
        return field_error(ex, raw, non_null, nodes, path)
    return completed


async def await_completed(
    ex: Any, completed: Awaitable, non_null: bool, nodes: list, path: Path
) -> Any:
    """The `await_completed` closures of `execute_field` and `complete_list_item_value`."""
    try:
        return await completed
    except Exception as raw:
        return field_error(ex, raw, non_null, nodes, path)


async def gather_fields(results: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    """`execute_fields`' `get_results`."""
    if len(keys) == 1:
        key = keys[0]
        results[key] = await results[key]
    else:
        awaited = await gather_with_cancel(*(results[key] for key in keys))
        results.update(zip(keys, awaited, strict=True))
    return results


def settle_fields(ex: Any, results: dict[str, Any], keys: list[str] | None) -> None:
    if keys:
        ex.settle_in_background([results[key] for key in keys])


def complete_iterable(
    ex: Any, items: Any, complete_item: Any, item_non_null: bool, nodes: list, path: Path,
    call: Any,
) -> Any:  # fmt: skip
    """`complete_iterable_value` (without `@stream`)."""
    is_awaitable = ex.is_awaitable
    tuple_new = tuple.__new__  # builds the Path without its Python-level `__new__`
    completed_results: list[Any] = []
    append = completed_results.append
    awaitable_indices: list[int] = []
    iterator = iter(items)
    index = 0
    try:
        for item in iterator:
            item_path = tuple_new(Path, (path, index, None))
            if is_awaitable(item):
                append(
                    complete_awaitable(
                        ex, item, complete_item, item_non_null, nodes, item_path, call
                    )
                )
                awaitable_indices.append(index)
            else:
                try:
                    completed = complete_item(ex, item, item_path, call)
                    if completed.__class__ is not dict and is_awaitable(completed):
                        append(await_completed(ex, completed, item_non_null, nodes, item_path))
                        awaitable_indices.append(index)
                    else:
                        append(completed)
                except Exception as raw:
                    field_error(ex, raw, item_non_null, nodes, item_path)
                    append(None)
            index += 1
    except Exception:
        pending = [completed_results[i] for i in awaitable_indices]
        pending.extend(collect_iterator_awaitables(iterator, is_awaitable))
        if pending:
            ex.settle_in_background(pending)
        raise
    if not awaitable_indices:
        return completed_results
    return _gather_items(completed_results, awaitable_indices)


async def _gather_items(results: list[Any], indices: list[int]) -> list[Any]:
    if len(indices) == 1:
        index = indices[0]
        results[index] = await results[index]
    else:
        awaited = await gather_with_cancel(*(results[index] for index in indices))
        for index, value in zip(indices, awaited, strict=True):
            results[index] = value
    return results


def not_iterable_error(parent_name: str, field_name: str) -> GraphQLError:
    return GraphQLError(
        f"Expected Iterable, but did not find one for field '{parent_name}.{field_name}'."
    )


def leaf_error(return_type: Any, result: Any, coerced: Any) -> TypeError:
    return TypeError(
        f"Expected `{inspect(return_type)}.coerce_output_value("
        f"{inspect(result)})` to return non-nullable value, returned: {inspect(coerced)}"
    )


__all__ = [
    "Call",
    "Undefined",
    "await_completed",
    "complete_awaitable",
    "complete_iterable",
    "field_error",
    "gather_fields",
    "is_iterable",
    "leaf_error",
    "not_iterable_error",
    "settle_fields",
]
