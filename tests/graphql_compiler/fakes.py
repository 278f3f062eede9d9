"""Random documents over a schema, and fake resolvers answering them with seeded data.

`FakeResolvers.install(schema)` replaces every resolver, `is_type_of` and `resolve_type` of
a schema with fakes whose behaviour per field is drawn for each document (`reshuffle`):
an attribute read hinted for the compiler, a source-only resolver, a sync or an async
resolver, one that raises; values are sometimes null (also where the type is non-null),
an exception returned as a value, a value the scalar cannot serialise, an awaitable list
item. Every value derives from a hash of (parent seed, field, arguments), so both executors
see the same data whatever order they call resolvers in.

`DocumentGenerator` writes random valid documents: selections, arguments, aliases, repeated
fields (merged), named fragments, inline fragments on abstract and concrete types,
`@skip`/`@include` with variables and literals, and `__typename`.
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import json
import random
from decimal import Decimal
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    is_abstract_type,
    is_leaf_type,
)

from graphql_compiler import attribute_reader, info_free, source_resolver

# Values the scalar refuses to serialise (graphql-core then reports a field error).
BAD_LEAVES = {"Int": 2**40, "Float": float("inf"), "JSON": object(), "DateTime": "not a date"}
FIELD_MODES = ("reader", "reader", "reader", "source", "sync", "sync", "async", "async")


def _seed(*parts: Any) -> int:
    text = json.dumps(parts, default=str, sort_keys=True)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


class Fake:
    """An object of GraphQL type `_type`; a field read as an attribute yields its value."""

    def __init__(self, resolvers: FakeResolvers, type_name: str, seed: int) -> None:
        self._resolvers = resolvers
        self._type = type_name
        self._seed = seed

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._resolvers.value(self, name, {})

    def __repr__(self) -> str:
        return f"Fake({self._type}, {self._seed})"


class FakeResolvers:
    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema
        self.modes: dict[tuple[str, str], str] = {}
        self.rng = random.Random(0)
        self.error_rate = 0.006

    # --- values -------------------------------------------------------------------------

    def value(self, source: Fake, field_name: str, args: dict[str, Any]) -> Any:
        parent = self.schema.get_type(source._type)
        field = parent.fields[field_name]
        rng = random.Random(_seed(source._seed, field_name, args))
        return self._make(rng, field.type, f"{source._type}.{field_name}", nullable_ok=True)

    def _make(self, rng: random.Random, type_: Any, label: str, *, nullable_ok: bool) -> Any:
        roll = rng.random()
        if roll < self.error_rate:
            return None  # also where the type is non-null: a null propagating up
        if roll < self.error_rate * 1.4:
            return ValueError(f"returned error at {label}")
        non_null = isinstance(type_, GraphQLNonNull)
        inner = type_.of_type if non_null else type_
        if isinstance(inner, GraphQLList):
            items: list[Any] = []
            for index in range(rng.randrange(0, 4)):
                item = self._make(rng, inner.of_type, f"{label}[{index}]", nullable_ok=True)
                if rng.random() < 0.15:
                    item = _later(item, rng.random() < 0.5)  # an awaitable list item
                items.append(item)
            return items
        if is_leaf_type(inner):
            if roll < self.error_rate * 1.7:
                return BAD_LEAVES.get(inner.name, {"not": "serialisable"})
            return _leaf(rng, inner)
        if is_abstract_type(inner):
            possible = self.schema.get_possible_types(inner)
            if not possible:
                return None
            chosen = possible[rng.randrange(len(possible))].name
            if roll < self.error_rate * 1.8:
                chosen = "NoSuchType"
            return Fake(self, chosen, rng.getrandbits(48))
        if isinstance(inner, GraphQLObjectType):
            if inner.is_type_of is not None and roll < self.error_rate * 1.8:
                return Fake(self, "WrongType", rng.getrandbits(48))
            return Fake(self, inner.name, rng.getrandbits(48))
        raise AssertionError(inner)

    # --- resolvers ----------------------------------------------------------------------

    def install(self) -> None:
        for type_ in self.schema.type_map.values():
            if type_.name.startswith("__"):
                continue
            if isinstance(type_, GraphQLObjectType):
                for name, field in type_.fields.items():
                    field.resolve = self._resolver(type_.name, name)
                    field.subscribe = None
                if type_.is_type_of is not None or type_.interfaces:
                    type_.is_type_of = self._is_type_of(type_.name)
            if isinstance(type_, (GraphQLInterfaceType, GraphQLUnionType)):
                type_.resolve_type = self._resolve_type(type_.name)

    def reshuffle(self, seed: int) -> None:
        """Draw each field's behaviour anew (readers are hinted per schema, so a reader
        field stays a reader; its values still vary with the seed)."""
        self.rng = random.Random(seed)
        self.root_seed = seed
        for key in self.modes:
            mode = self.modes[key]
            if mode not in ("reader", "source"):
                self.modes[key] = self.rng.choice(("sync", "sync", "async", "async", "raise"))

    def root(self) -> Fake:
        return Fake(self, "Query", self.root_seed)

    def _resolver(self, type_name: str, field_name: str):
        key = (type_name, field_name)
        mode = random.Random(_seed(type_name, field_name)).choice(FIELD_MODES)
        if self.schema.get_type(type_name).fields[field_name].args and mode in ("reader", "source"):
            mode = "sync"  # readers take no arguments (and the compiler inlines none that do)
        self.modes[key] = mode
        if mode == "reader":
            return attribute_reader(field_name)
        if mode == "source":
            return source_resolver(lambda source: self.value(source, field_name, {}))

        def resolve(source: Fake, info: Any, **args: Any) -> Any:
            assert info.field_name == field_name and info.parent_type.name == type_name
            behaviour = self.modes[key]
            if behaviour == "raise" and random.Random(_seed(source._seed, key)).random() < 0.04:
                raise RuntimeError(f"resolver failed at {type_name}.{field_name}")
            value = self.value(source, field_name, args)
            if behaviour == "async":
                return _later(value, random.Random(_seed(source._seed, key, 1)).random() < 0.5)
            return value

        return resolve

    def _is_type_of(self, type_name: str):
        style = random.Random(_seed("is_type_of", type_name)).choice(("sync", "async", "free"))

        def is_type_of(value: Any, info: Any) -> Any:
            verdict = getattr(value, "_type", None) == type_name
            if style == "async":
                return _later(verdict, True)
            if style == "sync":
                assert info is not None
            return verdict

        return info_free(is_type_of) if style == "free" else is_type_of

    def _resolve_type(self, type_name: str):
        style = random.Random(_seed("resolve_type", type_name)).choice(("sync", "async"))

        def resolve_type(value: Any, info: Any, abstract_type: Any) -> Any:
            name = getattr(value, "_type", None)
            return _later(name, True) if style == "async" else name

        return resolve_type


async def _sleep_then(value: Any, sleep: bool) -> Any:
    if sleep:
        await asyncio.sleep(0)
    if isinstance(value, Exception) and sleep:
        raise value
    return value


def _later(value: Any, sleep: bool) -> Any:
    return _sleep_then(value, sleep)


def _leaf(rng: random.Random, type_: Any) -> Any:
    if isinstance(type_, GraphQLEnumType):
        values = list(type_.values.values())
        return values[rng.randrange(len(values))].value
    assert isinstance(type_, GraphQLScalarType)
    name = type_.name
    if name == "String":
        return rng.choice(["a", "trail", "Lamp", "", "ünïcode", 7, True])
    if name == "ID":
        return rng.choice(["UHJvZHVjdDox", "a", 7])
    if name == "Int":
        return rng.choice([0, 1, -3, 42, 2**31 - 1, 1.0, "12"])
    if name == "Float":
        return rng.choice([0.5, 1, -2.25, "1.5"])
    if name == "Boolean":
        return rng.choice([True, False, 0, 1])
    if name == "Decimal":
        return Decimal(rng.choice(["19.99", "0", "-1.5"]))
    if name == "DateTime":
        return datetime.datetime(2026, 1, rng.randrange(1, 28), tzinfo=datetime.UTC)
    if name == "Date":
        return datetime.date(2026, 1, rng.randrange(1, 28))
    if name == "JSON":
        return rng.choice([{"k": 1}, [1, 2], "text", None, 3])
    return "x"


class DocumentGenerator:
    def __init__(self, schema: GraphQLSchema, rng: random.Random, *, max_depth: int = 3):
        self.schema = schema
        self.rng = rng
        self.max_depth = max_depth
        self.fragments: list[str] = []
        self.variables: dict[str, tuple[str, Any]] = {}
        self.alias_count = 0

    def document(self, root: GraphQLObjectType) -> tuple[str, dict[str, Any]]:
        selection = self.selection_set(root, 0, force=True)
        definitions = ", ".join(f"${n}: {t}" for n, (t, _v) in self.variables.items())
        header = f"query Q({definitions})" if definitions else "query Q"
        text = "\n".join([f"{header} {selection}", *self.fragments])
        return text, {n: v for n, (_t, v) in self.variables.items()}

    def directive(self) -> str:
        roll = self.rng.random()
        if roll > 0.25:
            return ""
        name = self.rng.choice(("skip", "include"))
        if self.rng.random() < 0.7:
            variable = f"b{len(self.variables)}"
            self.variables[variable] = ("Boolean!", self.rng.random() < 0.5)
            return f" @{name}(if: ${variable})"
        return f" @{name}(if: {self.rng.choice(('true', 'false'))})"

    def selection_set(self, type_: Any, depth: int, *, force: bool = False) -> str:
        parts: list[str] = []
        fields = getattr(type_, "fields", {}) if not isinstance(type_, GraphQLUnionType) else {}
        names = [n for n in fields if not n.startswith("__")]
        leaves = [n for n in names if is_leaf_type(get_named_type(fields[n].type))]
        count = self.rng.randrange(1, 5)
        for _ in range(count):
            pool = leaves if depth >= self.max_depth else names
            if pool:
                parts.append(self.field(type_, self.rng.choice(pool), depth))
        if self.rng.random() < 0.3 or not parts:
            parts.append("__typename" + self.directive())
        if is_abstract_type(type_) and depth < self.max_depth:
            for possible in self.schema.get_possible_types(type_):
                if self.rng.random() < 0.5:
                    parts.append(self.fragment_use(possible, depth))
        elif depth < self.max_depth and self.rng.random() < 0.2:
            parts.append(self.fragment_use(type_, depth))
        if force and self.rng.random() < 0.3 and parts:
            parts.append(parts[0])  # the same selection twice: merged
        return "{ " + " ".join(parts) + " }"

    def fragment_use(self, type_: Any, depth: int) -> str:
        body = self.selection_set(type_, depth + 1)
        if self.rng.random() < 0.5:
            return f"... on {type_.name}{self.directive()} {body}"
        name = f"F{len(self.fragments)}"
        self.fragments.append(f"fragment {name} on {type_.name} {body}")
        return f"...{name}{self.directive()}"

    def field(self, parent: Any, name: str, depth: int) -> str:
        field = parent.fields[name]
        arguments = []
        for arg_name, arg in field.args.items():
            if isinstance(arg.type, GraphQLNonNull) or self.rng.random() < 0.2:
                literal = self.literal(arg.type, 0)
                if literal is not None:
                    arguments.append(f"{arg_name}: {literal}")
        text = name + (f"({', '.join(arguments)})" if arguments else "")
        if arguments or self.rng.random() < 0.25:
            self.alias_count += 1
            text = f"a{self.alias_count}: {text}"  # arguments differ: never merge by name
        text += self.directive()
        named = get_named_type(field.type)
        if not is_leaf_type(named):
            text += " " + self.selection_set(named, depth + 1)
        return text

    def literal(self, type_: Any, depth: int) -> str | None:
        inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        if isinstance(inner, GraphQLList):
            item = self.literal(inner.of_type, depth + 1)
            return None if item is None else f"[{item}]"
        if isinstance(inner, GraphQLEnumType):
            return self.rng.choice(list(inner.values))
        if isinstance(inner, GraphQLInputObjectType):
            if depth > 2:
                return None
            parts = []
            for name, input_field in inner.fields.items():
                if isinstance(input_field.type, GraphQLNonNull):
                    value = self.literal(input_field.type, depth + 1)
                    if value is None:
                        return None
                    parts.append(f"{name}: {value}")
            return "{" + ", ".join(parts) + "}"
        return {
            "Int": str(self.rng.randrange(1, 4)),
            "Float": "1.5",
            "String": '"x"',
            "ID": '"UHJvZHVjdDox"',
            "Boolean": "true",
            "Decimal": '"1.5"',
        }.get(inner.name)
