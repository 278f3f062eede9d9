"""Completers: `(ex, value, path, call) -> completed value or awaitable`, raising on error.

Each mirrors graphql-core's `complete_value` for one type (non-null, list, leaf, object,
abstract), with the same checks in the same order and the same error messages; `call`
carries what is needed to build the field's `info` if (and only if) something asks for it.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLObjectType, is_non_null_type
from graphql.execution.executor import invalid_return_type_error
from graphql.pyutils import Undefined, is_iterable

from graphql_compiler import hints, runtime
from graphql_compiler.spec import FieldSpec


def non_null(inner: Any, message: str) -> Any:
    def complete_non_null(ex: Any, value: Any, path: Any, call: Any) -> Any:
        if isinstance(value, Exception):
            raise value
        completed = inner(ex, value, path, call)
        if completed is None:
            raise TypeError(message)
        return completed

    return complete_non_null


def list_of(list_type: Any, spec: FieldSpec, complete_item: Any) -> Any:
    item_non_null = is_non_null_type(list_type.of_type)
    nodes = spec.nodes
    parent_name, field_name = spec.parent_type.name, spec.name
    complete_iterable = runtime.complete_iterable

    def complete_list(ex: Any, value: Any, path: Any, call: Any) -> Any:
        if isinstance(value, Exception):
            raise value
        if value is None or value is Undefined:
            return None
        if value.__class__ is not list:
            if ex.is_async_iterable(value):
                # Rare: graphql-core completes this subtree itself, its own way.
                return ex.complete_list_value(
                    list_type, spec.details, call.get_info(ex), path, value, None
                )
            if not is_iterable(value):
                raise runtime.not_iterable_error(parent_name, field_name)
        return complete_iterable(ex, value, complete_item, item_non_null, nodes, path, call)

    return complete_list


def abstract(abstract_type: Any, spec: FieldSpec, object_completer: Any) -> Any:
    by_type: dict[str, Any] = {}

    def complete_runtime_object(ex: Any, object_type: Any, value: Any, path: Any, call: Any):
        step = by_type.get(object_type.name)
        if step is None:
            step = by_type[object_type.name] = object_completer(object_type, spec)
        return step(ex, value, path, call)

    resolve_type = abstract_type.resolve_type

    def complete_abstract(ex: Any, value: Any, path: Any, call: Any) -> Any:
        if isinstance(value, Exception):
            raise value
        if value is None or value is Undefined:
            return None
        info = call.get_info(ex)
        runtime_type = (resolve_type or ex.type_resolver)(value, info, abstract_type)
        if ex.is_awaitable(runtime_type):
            return _abstract_async(
                ex, runtime_type, abstract_type, spec, info, value, path, call,
                complete_runtime_object,
            )  # fmt: skip
        object_type = ex.ensure_valid_runtime_type(
            runtime_type, abstract_type, spec.details, info, value
        )
        return complete_runtime_object(ex, object_type, value, path, call)

    return complete_abstract


def leaf(leaf_type: Any, field_label: str, *, non_null: bool) -> Any:
    coerce = leaf_type.coerce_output_value
    message = f"Cannot return null for non-nullable field {field_label}."
    leaf_error = runtime.leaf_error

    def complete_leaf(ex: Any, value: Any, path: Any, call: Any) -> Any:
        if isinstance(value, Exception):
            raise value
        if value is None or value is Undefined:
            if non_null:
                raise TypeError(message)
            return None
        coerced = coerce(value)
        if coerced is Undefined or coerced is None:
            raise leaf_error(leaf_type, value, coerced)
        return coerced

    return complete_leaf


def object_of(
    object_type: GraphQLObjectType, object_fn: Any, spec: FieldSpec, null_message: str | None
) -> Any:
    """Completes an object value (of a non-null type when `null_message` is given: null is
    then the field error graphql-core raises for it)."""
    is_type_of = object_type.is_type_of
    hint = hints.hint_of(is_type_of)
    info_free = hint is not None and hint[0] == hints.INFO_FREE

    if is_type_of is None:

        def complete_object(ex: Any, value: Any, path: Any, call: Any) -> Any:
            if isinstance(value, Exception):
                raise value
            if value is None or value is Undefined:
                if null_message is not None:
                    raise TypeError(null_message)
                return None
            return object_fn(ex, value, path)

        complete_object.needs_call = False  # type: ignore[attr-defined]
        return complete_object

    def complete_checked_object(ex: Any, value: Any, path: Any, call: Any) -> Any:
        if isinstance(value, Exception):
            raise value
        if value is None or value is Undefined:
            if null_message is not None:
                raise TypeError(null_message)
            return None
        verdict = is_type_of(value, None if info_free else call.get_info(ex))
        if verdict is not True and verdict is not False and ex.is_awaitable(verdict):
            return _object_async(ex, verdict, object_type, object_fn, spec, value, path)
        if not verdict:
            raise invalid_return_type_error(object_type, value, spec.details)
        return object_fn(ex, value, path)

    complete_checked_object.needs_call = not info_free  # type: ignore[attr-defined]
    return complete_checked_object


async def _object_async(
    ex: Any, verdict: Any, object_type: Any, object_fn: Any, spec: FieldSpec, value: Any,
    path: Any,
) -> Any:  # fmt: skip
    if not await verdict:
        raise invalid_return_type_error(object_type, value, spec.details)
    completed = object_fn(ex, value, path)
    if ex.is_awaitable(completed):
        return await completed
    return completed  # pragma: no cover


async def _abstract_async(
    ex: Any, runtime_type: Any, abstract_type: Any, spec: FieldSpec, info: Any, value: Any,
    path: Any, call: Any, complete_runtime_object: Any,
) -> Any:  # fmt: skip
    object_type = ex.ensure_valid_runtime_type(
        await runtime_type, abstract_type, spec.details, info, value
    )
    completed = complete_runtime_object(ex, object_type, value, path, call)
    if ex.is_awaitable(completed):
        return await completed
    return completed  # pragma: no cover
