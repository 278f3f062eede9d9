"""The compiler's cache, fallbacks, hints and concurrency, on small schemas."""

from __future__ import annotations

import asyncio
import json

from graphql import build_schema, execute, parse
from graphql.execution.incremental import IncrementalExecutor
from strawberry.dataloader import DataLoader

from graphql_compiler import ExecutionCompiler, attribute_reader, document_hash, info_free

SDL = """
type Item { id: Int! name: String owner: User }
type User { id: Int! name: String! }
type Query { items(n: Int = 3): [Item!]! hello: String }
"""


class Item:
    def __init__(self, pk: int) -> None:
        self.id = pk
        self.name = f"item {pk}"


def schema_with_loader(batches: list[list[int]]):
    schema = build_schema(SDL)

    async def load_users(keys):
        batches.append(list(keys))
        return [{"id": k, "name": f"user {k}"} for k in keys]

    async def owner(item, info):
        return await info.context["users"].load(item.id % 4)

    schema.query_type.fields["items"].resolve = lambda _root, _info, n: [Item(i) for i in range(n)]
    schema.query_type.fields["hello"].resolve = lambda _root, _info: "hi"
    schema.get_type("Item").fields["owner"].resolve = owner
    schema.get_type("Item").fields["name"].resolve = attribute_reader("name")
    return schema, load_users


async def run(schema, query, executor_class, context=None, variables=None):
    result = execute(schema, parse(query), None, context, variables, executor_class=executor_class)
    if asyncio.iscoroutine(result):
        result = await result
    return json.dumps(result.formatted)


async def test_dataloader_batches_the_same_way():
    batches: list[list[int]] = []
    schema, load_users = schema_with_loader(batches)
    compiler = ExecutionCompiler(schema)
    query = "{ items(n: 10) { id name owner { id name } } }"
    reference = await run(
        schema, query, IncrementalExecutor, {"users": DataLoader(load_fn=load_users)}
    )
    reference_batches, batches[:] = list(batches), []
    compiled = await run(
        schema, query, compiler.executor_class(IncrementalExecutor),
        {"users": DataLoader(load_fn=load_users)},
    )  # fmt: skip
    assert compiled == reference
    assert batches == reference_batches == [[0, 1, 2, 3]]  # one batch for ten owners


async def test_documents_are_compiled_once_and_variants_per_condition():
    schema, _ = schema_with_loader([])
    compiler = ExecutionCompiler(schema)
    executor = compiler.executor_class()
    query = "query($s: Boolean!) { hello items { id name @skip(if: $s) } }"
    for skip in (True, False, True, False):
        await run(schema, query, executor, variables={"s": skip})
    assert compiler.compiled == 1 and len(compiler) == 1
    assert sum(compiler.fallbacks.values()) == 0


async def test_fallbacks_are_counted_and_still_answered():
    schema, _ = schema_with_loader([])
    reasons: list[str] = []
    compiler = ExecutionCompiler(
        schema, max_document_length=60, max_variants=1, on_fallback=reasons.append
    )
    executor = compiler.executor_class()
    long_query = "{ hello " + " " * 80 + "}"
    assert json.loads(await run(schema, long_query, executor)) == {"data": {"hello": "hi"}}
    query = "query($s: Boolean!) { hello @include(if: $s) }"
    await run(schema, query, executor, variables={"s": True})
    answer = await run(schema, query, executor, variables={"s": False})
    assert json.loads(answer) == {"data": {}}

    def middleware(next_, root, info, **args):
        return next_(root, info, **args)

    result = execute(schema, parse("{ hello }"), middleware=[middleware], executor_class=executor)
    assert result.data == {"hello": "hi"}
    assert reasons == ["document_too_large", "condition_variants", "middleware"]
    assert compiler.fallbacks["middleware"] == 1


async def test_warm_pins_a_document_by_hash():
    schema, _ = schema_with_loader([])
    compiler = ExecutionCompiler(schema, max_documents=1)
    text = "query Hello { hello }"
    digest = compiler.warm(text)
    assert digest == document_hash(text) and compiler.is_compiled(digest)
    executor = compiler.executor_class()
    for other in ("{ items { id } }", "{ items { name } }"):  # fill and churn the LRU
        await run(schema, other, executor)
    assert compiler.is_compiled(digest)
    compiled_before = compiler.compiled
    assert json.loads(await run(schema, text, executor)) == {"data": {"hello": "hi"}}
    assert compiler.compiled == compiled_before  # served from the pinned entry


async def test_info_free_is_type_of_gets_no_info_and_others_get_it():
    schema = build_schema("type Thing { a: Int } type Query { things: [Thing] other: Thing }")
    seen: list[object] = []

    def free(value, info):
        seen.append(info)
        return True

    schema.query_type.fields["things"].resolve = lambda *_: [{"a": 1}, {"a": 2}]
    schema.get_type("Thing").is_type_of = info_free(free)
    compiler = ExecutionCompiler(schema)
    await run(schema, "{ things { a } }", compiler.executor_class())
    assert seen == [None, None]

    def checked(value, info):
        seen.append(info.field_name)
        return True

    schema.get_type("Thing").is_type_of = checked
    await run(schema, "{ things { __typename } }", ExecutionCompiler(schema).executor_class())
    assert seen[2:] == ["things", "things"]


async def test_a_compile_error_falls_back_once_logged_then_remembered(monkeypatch, caplog):
    schema, _ = schema_with_loader([])
    compiler = ExecutionCompiler(schema)
    executor = compiler.executor_class()
    calls = []

    def broken(self, root_type):
        calls.append(root_type)
        raise RuntimeError("a compiler bug")

    monkeypatch.setattr("graphql_compiler.plan.Builder.root", broken)
    for _ in range(3):
        assert json.loads(await run(schema, "{ hello }", executor)) == {"data": {"hello": "hi"}}
    assert compiler.fallbacks["compile_error"] == 3
    assert len(calls) == 1  # compiled (and logged) once, then remembered
    assert sum("compiling an operation failed" in r.message for r in caplog.records) == 1
