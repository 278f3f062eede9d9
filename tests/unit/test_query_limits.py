"""The document measure behind the depth, alias, directive and cost limits."""

from __future__ import annotations

import time

import pytest
from graphql import parse

from schema import build_schema
from schema.limits import QueryLimits, limit_errors, measure

SCHEMA = build_schema()._schema
LIMITS = QueryLimits(
    max_depth=10, max_aliases=30, max_directives=50, max_cost=1000, max_page_size=100
)


def m(query: str, variables=None, operation_name=None):
    return measure(SCHEMA, parse(query), LIMITS, variables=variables, operation_name=operation_name)


def fan_out(levels: int, leaf: str) -> str:
    """Fragments that each spread the next one twice: 2**levels copies of `leaf`."""
    fragments = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    fragments.append(f"fragment F{levels} on Query {{ {leaf} }}")
    return "query { ...F0 }\n" + "\n".join(fragments)


@pytest.mark.parametrize(
    ("query", "cost"),
    [
        ("{ __typename }", 0),
        ("{ facets { totalCount } }", 1),
        # A connection multiplies the list below it, not its pageInfo or totalCount.
        (
            "{ products(first: 50) { totalCount pageInfo { hasNextPage } edges { node { id } } } }",
            1 + 1 + 50 * 2,
        ),
        (
            "{ products(last: 7) { edges { node { price { amount } stats { views } } } } }",
            1 + 7 * 4,
        ),
        # No first/last: the resolver's default page size (20).
        ("{ products { edges { node { id } } } }", 1 + 20 * 2),
        # Over the maximum page size: counted at the maximum (the resolver refuses it).
        ("{ products(first: 5000) { edges { cursor } } }", 1 + 100),
        # A list of objects without pagination arguments: 10 assumed.
        ("{ facets { categories { value } brands { count } } }", 1 + 10 + 10),
        # Branches of an abstract type add up.
        (
            '{ node(id: "x") { ... on Product { price { amount } } ... on User { createdAt } } }',
            1 + 1,
        ),
        ("{ a: facets { totalCount } b: facets { totalCount } }", 2),
    ],
)
def test_cost_model(query, cost):
    assert m(query).cost == cost


def test_cost_reads_page_sizes_from_variables_and_their_defaults():
    query = "query($n: Int = 30) { products(first: $n) { edges { node { id } } } }"
    assert m(query).cost == 1 + 30 * 2
    assert m(query, {"n": 5}).cost == 1 + 5 * 2
    # A value of the wrong type is refused later by coercion; the default size is used.
    assert m(query, {"n": "lots"}).cost == 1 + 20 * 2


def test_cost_is_that_of_the_operation_that_runs():
    query = """
        query Small { facets { totalCount } }
        query Big { products(first: 100) { edges { node { id } } } }
    """
    assert m(query, operation_name="Small").cost == 1
    assert m(query, operation_name="Big").cost == 201
    assert m(query).cost == 201  # cannot tell yet: the costliest


def test_depth_counts_nested_fields_through_fragments_but_not_introspection():
    query = """
        { ...Page __schema { types { fields { type { ofType { name } } } } } }
        fragment Page on Query {
          products { edges { node { ... on Product { price { amount } } } } }
        }
    """
    assert m(query).depth == 5


def test_aliases_and_directives_count_every_expansion_of_a_fragment():
    query = """
        query($skip: Boolean!) { ...F ...F a: __typename @skip(if: $skip) }
        fragment F on Query { b: facets @include(if: true) { c: totalCount } }
    """
    found = m(query)
    assert found.aliases == 2 * 2 + 1
    assert found.directives == 2 + 1


def test_fragment_fan_out_is_measured_in_linear_time():
    # Strawberry's QueryDepthLimiter/MaxAliasesLimiter take minutes on this (2**60 copies).
    started = time.perf_counter()
    found = m(fan_out(60, "a: __typename"))
    assert time.perf_counter() - started < 0.5
    assert found.aliases == 2**60
    assert [e.extensions["limit"] for e in limit_errors(found, LIMITS)] == ["aliases"]


def test_fragment_cycles_do_not_loop():
    found = m(
        "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A facets { totalCount } }"
    )
    assert found.cost == 1


def test_fragment_chains_beyond_the_stack_raise_recursion_error():
    chain = [f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(3000)]
    query = "{ ...F0 }\n" + "\n".join(chain) + "\nfragment F3000 on Query { __typename }"
    with pytest.raises(RecursionError):
        m(query)


def test_each_limit_is_reported_by_name():
    found = m(
        "{ "
        + " ".join(f"a{i}: products(first: 100) {{ edges {{ node {{ id }} }} }}" for i in range(31))
        + " }"
    )
    assert sorted(e.extensions["limit"] for e in limit_errors(found, LIMITS)) == [
        "aliases",
        "cost",
    ]
    assert all(e.extensions["code"] == "QUERY_TOO_COMPLEX" for e in limit_errors(found, LIMITS))
