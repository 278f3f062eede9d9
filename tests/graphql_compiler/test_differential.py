"""graphql-core is the oracle: generated documents over the shop schema, answered by seeded
fake resolvers, must give the same result (data, errors with messages, paths and locations,
and the order of both) from the compiled executor as from graphql-core.

`GRAPHQL_COMPILER_EXAMPLES` raises the number of generated documents (default 250).
"""

from __future__ import annotations

import asyncio
import json
import os
import random

import pytest
from graphql import build_schema as build_sdl_schema
from graphql import execute, parse, subscribe, validate
from graphql.execution.incremental import IncrementalExecutor

from graphql_compiler import ExecutionCompiler
from tests.graphql_compiler.fakes import DocumentGenerator, FakeResolvers

# Coroutines abandoned when a null propagates past them are abandoned by graphql-core too
# (the same number each way: checked while writing this test); their warnings are noise.
pytestmark = [
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

EXAMPLES = int(os.environ.get("GRAPHQL_COMPILER_EXAMPLES", "250"))


def shop_schema():
    from schema import build_schema

    return build_schema()._schema


async def run_both(schema, compiler, document, root, variables):
    async def run(executor_class):
        result = execute(
            schema, document, root, variable_values=variables, executor_class=executor_class
        )
        if asyncio.iscoroutine(result):
            result = await result
        return json.dumps(result.formatted, default=repr)  # key order is compared too

    reference = await run(IncrementalExecutor)
    compiled = await run(compiler.executor_class(IncrementalExecutor))
    return reference, compiled


async def test_generated_documents_with_random_data():
    schema = shop_schema()
    fakes = FakeResolvers(schema)
    fakes.install()
    compiler = ExecutionCompiler(schema)
    stats = {"documents": 0, "invalid": 0, "with_errors": 0, "null_data": 0, "nonempty": 0}
    for seed in range(EXAMPLES):
        generator = DocumentGenerator(schema, random.Random(seed))
        text, variables = generator.document(schema.query_type)
        document = parse(text)
        if validate(schema, document):
            stats["invalid"] += 1
            continue
        stats["documents"] += 1
        fakes.reshuffle(seed)
        reference, compiled = await run_both(schema, compiler, document, fakes.root(), variables)
        assert compiled == reference, f"seed {seed}\n{text}\n{variables}"
        answer = json.loads(reference)
        stats["with_errors"] += bool(answer.get("errors"))
        stats["null_data"] += answer.get("data") is None
        stats["nonempty"] += bool(answer.get("data"))
    print(f"generated corpus: {stats}")
    assert stats["documents"] >= EXAMPLES * 0.8
    # The corpus has to exercise both outcomes and partial results.
    assert stats["with_errors"] >= stats["documents"] * 0.2
    assert stats["nonempty"] >= stats["documents"] * 0.3
    assert sum(compiler.fallbacks.values()) == 0


TOY_SDL = """
interface Named { name: String! }
type Dog implements Named { name: String! barks: Boolean friends: [Named!] }
type Cat implements Named { name: String! lives: Int! }
union Pet = Dog | Cat
type Query {
  pets: [Pet!]!
  named: [Named]
  deep: Level1
  sync(x: Int = 3): String!
  fails: String
  failsAsync: String
  failsNonNull: String!
  mixed: [Level1!]
}
type Level1 { a: String b: Level2! items: [Level2] }
type Level2 { c: String! d: Int later: String }
type Mutation { first: Int! second: Int third: Int! }
type Subscription { ticks: Level2 }
"""


async def _later(value, error=None):
    await asyncio.sleep(0)
    if error:
        raise error
    return value


def toy_root():
    level2 = [
        {"c": "ok", "d": 1, "later": lambda _info: _later("l1")},
        {"c": None, "d": 2, "later": lambda _info: _later(None, ValueError("late fail"))},
        {"c": "ok3", "d": 2**40, "later": lambda _info: _later("l3")},
    ]
    return {
        "pets": [
            {"__typename": "Dog", "name": "rex", "barks": True, "friends": [
                {"__typename": "Cat", "name": "tom", "lives": 9}, {"__typename": "Cat"}]},
            {"__typename": "Cat", "name": "tom", "lives": "nine"},
        ],
        "named": [{"__typename": "Cat", "name": "c", "lives": 9}, None,
                  {"__typename": "Nope", "name": "x"}],
        "deep": {"a": "A", "b": level2[1], "items": level2},
        "sync": lambda _info, x: f"x={x}",
        "fails": lambda _info: (_ for _ in ()).throw(RuntimeError("sync fail")),
        "failsAsync": lambda _info: _later(None, RuntimeError("async fail")),
        "failsNonNull": lambda _info: None,
        "mixed": lambda _info: [
            {"a": "m1", "b": level2[0], "items": [level2[0], _later(level2[2])]},
            _later({"a": "m2", "b": level2[1], "items": []}),
        ],
        "first": lambda _info: _later(1),
        "second": lambda _info: (_ for _ in ()).throw(RuntimeError("second")),
        "third": lambda _info: 3,
    }  # fmt: skip


ERROR_CASES = [
    # A resolver raising (sync and async), nulls in non-null fields at several depths,
    # errors inside lists (items and awaitable items), sync and async mixed.
    "{ fails failsAsync sync }",
    "{ failsNonNull sync }",
    "{ deep { a b { c d } } }",
    "{ deep { a items { c d later } } }",
    "{ mixed { a b { c } items { c later } } }",
    "{ mixed { a items { d } } sync(x: 5) }",
    "{ pets { __typename ... on Dog { name barks friends { name ... on Cat { lives } } } "
    "... on Cat { name lives } } }",
    "{ named { name ... on Cat { lives } } }",
    "query($s: Boolean!) { sync @skip(if: $s) fails deep @include(if: $s) { a } }",
    "fragment L on Level2 { c d } { deep { b { ...L } items { ...L later } } }",
    "mutation { first second third }",
    "mutation { second first }",
]


@pytest.mark.parametrize("query", ERROR_CASES)
@pytest.mark.parametrize("skip", [True, False])
async def test_error_cases(query, skip):
    schema = build_sdl_schema(TOY_SDL)
    compiler = ExecutionCompiler(schema)
    variables = {"s": skip} if "$s" in query else None
    reference, compiled = await run_both(schema, compiler, parse(query), toy_root(), variables)
    assert compiled == reference
    assert json.loads(reference).get("errors")  # each case does produce errors
    assert sum(compiler.fallbacks.values()) == 0


async def test_subscription_events_run_compiled_and_agree():
    schema = build_sdl_schema(TOY_SDL)

    async def ticks(_root, _info):
        for index in range(3):
            yield {"ticks": {"c": f"t{index}" if index != 1 else None, "d": index}}

    schema.subscription_type.fields["ticks"].subscribe = ticks
    compiler = ExecutionCompiler(schema)
    document = parse("subscription { ticks { c d } }")

    async def events(executor_class):
        stream = subscribe(schema, document, executor_class=executor_class)
        if asyncio.iscoroutine(stream):
            stream = await stream
        return [json.dumps(result.formatted) async for result in stream]

    reference = await events(IncrementalExecutor)
    compiled = await events(compiler.executor_class(IncrementalExecutor))
    assert compiled == reference
    assert len(reference) == 3 and "errors" in reference[1]
    assert compiler.compiled == 1 and sum(compiler.fallbacks.values()) == 0
