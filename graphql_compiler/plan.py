"""Compile one operation (for one set of `@skip`/`@include` conditions) into Python code.

Fields are collected once with graphql-core's own `collect_fields`/`collect_subfields`, so
merging, fragments, type conditions and directives mean exactly what they mean there. Each
(object type, field group) then becomes one generated function that builds the object's
result dict with every field inlined: the resolver call (or, for a resolver hinted as an
attribute read, the read itself), the completion of leaf values (a class check before the
scalar's `coerce_output_value`), and graphql-core's error handling. Lists, abstract types
and awaitables go through `completers.py` and `runtime.py`, which mirror graphql-core's steps.
"""

from __future__ import annotations

import keyword
from decimal import Decimal
from enum import Enum
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLID,
    GraphQLInt,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    VariableNode,
    get_argument_values,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import collect_fields, collect_subfields
from graphql.execution.values import VariableValues
from graphql.pyutils import Path

from graphql_compiler import completers, hints, runtime
from graphql_compiler.spec import CompileError, FieldSpec

_IMMUTABLE = (str, int, float, bool, type(None), Decimal, Enum)
# Built-in scalars whose `coerce_output_value` returns a value of this class unchanged.
_FAST_LEAF = {
    id(GraphQLString.coerce_output_value): "v.__class__ is not str",
    id(GraphQLID.coerce_output_value): "v.__class__ is not str",
    id(GraphQLBoolean.coerce_output_value): "v.__class__ is not bool",
    id(GraphQLInt.coerce_output_value): (
        "v.__class__ is not int or not -2147483648 <= v <= 2147483647"
    ),
}


def _has_variables(value: Any) -> bool:
    if isinstance(value, VariableNode):
        return True
    if isinstance(value, ListValueNode):
        return any(_has_variables(v) for v in value.values)
    if isinstance(value, ObjectValueNode):
        return any(_has_variables(f.value) for f in value.fields)
    return False


def _immutable(value: Any) -> bool:
    if isinstance(value, tuple):
        return all(_immutable(v) for v in value)
    return isinstance(value, _IMMUTABLE)


class Builder:
    """Generates the functions of one compiled operation variant."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, Any],
        operation: OperationDefinitionNode,
        conditions: VariableValues,
        hide_suggestions: bool,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.operation = operation
        self.conditions = conditions
        self.hide_suggestions = hide_suggestions
        self._count = 0
        self.functions = 0

    # --- entry points -------------------------------------------------------------------

    def root(self, root_type: GraphQLObjectType) -> tuple[Any, list[tuple[str, Any]]]:
        """The parallel root function and the serial (mutation) field functions."""
        try:
            collected = collect_fields(
                self.schema,
                self.fragments,
                self.conditions,
                root_type,
                self.operation,
                self.hide_suggestions,
            )
        except RecursionError as exc:
            raise CompileError("nested_too_deeply") from exc
        grouped, defer_usages, _forbidden = collected
        if defer_usages:
            raise CompileError("incremental_delivery")
        parallel = self.object_function(root_type, grouped)
        serial = [
            (spec.key, self._field_function(spec)) for spec in self._specs(root_type, grouped)
        ]
        return parallel, serial

    def subfields(self, object_type: GraphQLObjectType, spec: FieldSpec) -> Any:
        grouped, defer_usages, _forbidden = collect_subfields(
            self.schema,
            self.fragments,
            self.conditions,
            self.operation,
            object_type,
            spec.details,
            self.hide_suggestions,
        )
        if defer_usages:
            raise CompileError("incremental_delivery")
        return self.object_function(object_type, grouped)

    # --- code generation ----------------------------------------------------------------

    def _specs(self, parent_type: GraphQLObjectType, grouped: dict) -> list[FieldSpec]:
        specs = []
        for key, details in grouped.items():
            field_def = self.schema.get_field(parent_type, details[0].node.name.value)
            if field_def is not None:  # else graphql-core leaves the key out
                specs.append(FieldSpec(key, parent_type, field_def, details))
        return specs

    def _name(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}{self._count}"

    def object_function(self, parent_type: GraphQLObjectType, grouped: dict) -> Any:
        namespace: dict[str, Any] = {}
        lines = [
            "def object_fn(ex, src, path):",
            "    results = {}",
            "    aw = None",
            "    is_aw = ex.is_awaitable",
            "    try:",
        ]
        for spec in self._specs(parent_type, grouped):
            body = self._field_code(spec, namespace, parallel=True)
            lines.extend("        " + line for line in body)
        lines += [
            "        pass",
            "    except Exception:",
            "        settle_fields(ex, results, aw)",
            "        raise",
            "    if aw is None:",
            "        return results",
            "    return gather_fields(results, aw)",
        ]
        return self._define("\n".join(lines), namespace, "object_fn")

    def _field_function(self, spec: FieldSpec) -> Any:
        """One root field as a function returning its completed value (or an awaitable)."""
        namespace: dict[str, Any] = {}
        lines = ["def field_fn(ex, src, path):", "    is_aw = ex.is_awaitable"]
        lines.extend("    " + line for line in self._field_code(spec, namespace, parallel=False))
        return self._define("\n".join(lines), namespace, "field_fn")

    def _define(self, source: str, namespace: dict[str, Any], name: str) -> Any:
        namespace.update(
            Path=Path,
            # `tuple.__new__` builds the same Path without its Python-level `__new__`.
            tuple_new=tuple.__new__,
            Call=runtime.Call,
            field_error=runtime.field_error,
            complete_awaitable=runtime.complete_awaitable,
            await_completed=runtime.await_completed,
            gather_fields=runtime.gather_fields,
            settle_fields=runtime.settle_fields,
            get_argument_values=get_argument_values,
        )
        code = compile(source, f"<graphql_compiler:{self._name('f')}>", "exec")
        exec(code, namespace)  # noqa: S102 - our own generated code, from the schema only
        self.functions += 1
        return namespace[name]

    def _field_code(self, spec: FieldSpec, ns: dict[str, Any], *, parallel: bool) -> list[str]:
        """Lines computing field `spec` of `src` into `v`, then storing it (parallel: in
        `results`, registering awaitables in `aw`) or returning it (serial)."""
        i = self._name("")
        key = repr(spec.key)
        parent = repr(spec.parent_type.name)
        field_def = spec.field_def
        return_type = spec.return_type
        non_null = is_non_null_type(return_type)
        named = return_type.of_type if non_null else return_type
        leaf = is_leaf_type(named)
        ns[f"S{i}"] = spec
        ns[f"N{i}"] = spec.nodes
        ns[f"NN{i}"] = non_null
        ns[f"FD{i}"] = field_def
        ns[f"PT{i}"] = spec.parent_type
        ns[f"C{i}"] = completer = self.completer(return_type, spec)
        # Completers of objects whose `is_type_of` needs no info take no `Call`.
        needs_call = getattr(completer, "needs_call", True)
        if parallel:
            store = [f"results[{key}] = v"]
            register = [f"if aw is None: aw = [{key}]", f"else: aw.append({key})"]
        else:
            store = ["return v"]
            register = []

        if spec.name == "__typename":
            # graphql-core's meta field resolves to the parent type's name: a str, complete.
            return [f"results[{key}] = {parent}"] if parallel else [f"return {parent}"]

        hint = hints.hint_of(field_def.resolve)
        reader = hint is not None and hint[0] in (hints.ATTRIBUTE, hints.SOURCE)
        if reader and (field_def.args or spec.nodes[0].arguments):
            reader = False
        if reader:
            kind, target = hint
            if kind == hints.ATTRIBUTE and target.isidentifier() and not keyword.iskeyword(target):
                read = f"v = src.{target}"
            elif kind == hints.ATTRIBUTE:
                ns[f"A{i}"] = target
                read = f"v = getattr(src, A{i})"
            else:
                ns[f"R{i}"] = target
                read = f"v = R{i}(src)"
            if leaf:
                fast = self._fast_leaf(named)
                lines = ["try:", f"    {read}"]
                slow = [
                    "if is_aw(v):",
                    f"    fp = tuple_new(Path, (path, {key}, {parent}))",
                    f"    v = complete_awaitable(ex, v, C{i}, NN{i}, N{i}, fp, "
                    f"Call(S{i}, fp, None))",
                    *("    " + line for line in register),
                    "else:",
                    f"    v = C{i}(ex, v, None, None)",
                ]
                if fast:
                    lines.append(f"    if {fast}:")
                    lines.extend("        " + line for line in slow)
                else:
                    lines.extend("    " + line for line in slow)
                lines += [
                    "except Exception as e:",
                    f"    v = field_error(ex, e, NN{i}, N{i}, "
                    f"tuple_new(Path, (path, {key}, {parent})))",
                    *store,
                ]
                return lines
            call_info = "None"
            lines = [f"fp = tuple_new(Path, (path, {key}, {parent}))", "try:", f"    {read}"]
        else:
            if field_def.resolve is None:
                ns[f"R{i}"] = None
                resolver = "(ex.field_resolver)"
            else:
                ns[f"R{i}"] = field_def.resolve
                resolver = f"R{i}"
            call = self._call_code(spec, i, ns, resolver)
            call_info = "info"
            lines = [
                f"fp = tuple_new(Path, (path, {key}, {parent}))",
                f"info = ex.build_resolve_info(FD{i}, N{i}, PT{i}, fp)",
                "try:",
                f"    v = {call}",
            ]
        lines += [
            "    if is_aw(v):",
            f"        v = complete_awaitable(ex, v, C{i}, NN{i}, N{i}, fp, "
            f"Call(S{i}, fp, {call_info}))",
            *("        " + line for line in register),
            "    else:",
        ]
        if leaf:
            fast = self._fast_leaf(named)
            if fast:
                lines += [f"        if {fast}:", f"            v = C{i}(ex, v, None, None)"]
            else:
                lines += [f"        v = C{i}(ex, v, None, None)"]
        else:
            call = f"Call(S{i}, fp, {call_info})" if needs_call else "None"
            lines += [
                f"        v = C{i}(ex, v, fp, {call})",
                "        if v.__class__ is not dict and is_aw(v):",
                f"            v = await_completed(ex, v, NN{i}, N{i}, fp)",
                *("            " + line for line in register),
            ]
        lines += [
            "except Exception as e:",
            f"    v = field_error(ex, e, NN{i}, N{i}, fp)",
            *store,
        ]
        return lines

    def _call_code(self, spec: FieldSpec, i: str, ns: dict[str, Any], resolver: str) -> str:
        node = spec.nodes[0]
        if not (spec.field_def.args or node.arguments):
            return f"{resolver}(src, info)"
        ns[f"AN{i}"] = node
        dynamic = (
            f"{resolver}(src, info, **get_argument_values(FD{i}, AN{i}, ex.variable_values, "
            "None, ex.hide_suggestions))"
        )
        if any(_has_variables(argument.value) for argument in node.arguments or ()):
            return dynamic
        try:
            constant = get_argument_values(
                spec.field_def, node, VariableValues({}, {}), None, self.hide_suggestions
            )
        except Exception:  # raised again, in place, at run time
            return dynamic
        if not all(_immutable(value) for value in constant.values()):
            return dynamic  # resolvers get fresh containers, as graphql-core gives them
        ns[f"AV{i}"] = constant
        return f"{resolver}(src, info, **AV{i})"

    @staticmethod
    def _fast_leaf(named: Any) -> str | None:
        coerce = getattr(named, "coerce_output_value", None)
        return _FAST_LEAF.get(id(coerce)) if coerce is not None else None

    # --- completers: (ex, value, path, call) -> completed value or awaitable ------------

    def completer(self, return_type: Any, spec: FieldSpec) -> Any:
        """The completer of `return_type` for field `spec` (see completers.py)."""
        field_label = f"{spec.parent_type.name}.{spec.name}"
        if is_non_null_type(return_type):
            inner_type = return_type.of_type
            message = f"Cannot return null for non-nullable field {field_label}."
            if is_leaf_type(inner_type):
                return completers.leaf(inner_type, field_label, non_null=True)
            if is_object_type(inner_type):
                return self.object_completer(inner_type, spec, null_message=message)
            return completers.non_null(self.completer(inner_type, spec), message)
        if is_list_type(return_type):
            return completers.list_of(return_type, spec, self.completer(return_type.of_type, spec))
        if is_leaf_type(return_type):
            return completers.leaf(return_type, field_label, non_null=False)
        if is_abstract_type(return_type):
            # Each runtime type is compiled on first sight; the conditions are those of this
            # variant, so the result is the one any request would get.
            return completers.abstract(return_type, spec, self.object_completer)
        if is_object_type(return_type):
            return self.object_completer(return_type, spec)
        raise CompileError("unexpected_output_type")

    def object_completer(
        self, object_type: GraphQLObjectType, spec: FieldSpec, null_message: str | None = None
    ) -> Any:
        object_fn = self.subfields(object_type, spec)
        return completers.object_of(object_type, object_fn, spec, null_message)


__all__ = ["Builder", "CompileError"]
