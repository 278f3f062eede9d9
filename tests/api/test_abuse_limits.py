"""Abuse limits over HTTP: each refusal is fast to compute and carries a stable code."""

from __future__ import annotations

import uuid

import pytest

from tests.support.graphql import error_codes, gql

PAGE = """{ products(first: 50) {
    totalCount pageInfo { hasNextPage } edges { node { id price { amount } } } } }"""


def aliased_pages(count: int) -> str:
    return (
        "{ "
        + " ".join(
            f"p{i}: products(first: 100) {{ edges {{ node {{ id }} }} }}" for i in range(count)
        )
        + " }"
    )


def fan_out(levels: int) -> str:
    fragments = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    fragments.append(f"fragment F{levels} on Query {{ a: __typename }}")
    return "query { ...F0 }\n" + "\n".join(fragments)


async def test_the_cost_of_a_query_is_reported_in_extensions(client, catalog):
    body = await gql(client, PAGE)
    assert len(body["data"]["products"]["edges"]) == 50
    assert body["extensions"]["cost"] == {"requested": 1 + 1 + 50 * 3, "limit": 1000}


async def test_no_cost_is_reported_for_an_invalid_document(client, db):
    body = await gql(client, "{ products { nope } }")
    assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "extensions" not in body


@pytest.mark.parametrize(
    ("query", "limit"),
    [
        ("{" + "a {" * 11 + "b" + "}" * 11 + "}", "depth"),
        ("{ " + " ".join(f"a{i}: __typename" for i in range(31)) + " }", "aliases"),
        ("{ __typename " + "@skip(if: false) " * 51 + "}", "directives"),
        (aliased_pages(6), "cost"),
        (fan_out(40), "aliases"),
    ],
)
async def test_over_a_limit_the_document_is_refused_before_validation(client, db, query, limit):
    body = await gql(client, query)
    assert "data" not in body
    assert [(e["extensions"]["code"], e["extensions"]["limit"]) for e in body["errors"]] == [
        ("QUERY_TOO_COMPLEX", limit)
    ]


async def test_a_refused_document_still_reports_its_cost(client, db):
    body = await gql(client, aliased_pages(6))
    assert body["extensions"]["cost"] == {"requested": 6 * 201, "limit": 1000}


@pytest.mark.parametrize(
    "query",
    [
        "{ " + "__typename " * 1001 + "}",  # over GRAPHQL_MAX_TOKENS
        "{" + "a{" * 2000 + "}" * 2000 + "}",  # beyond the parser's nesting guard
    ],
)
async def test_documents_the_parser_gives_up_on_are_too_complex_not_a_typo(client, db, query):
    body = await gql(client, query)
    assert error_codes(body) == ["QUERY_TOO_COMPLEX"]


async def test_a_page_size_over_the_maximum_keeps_its_own_code(client, db):
    body = await gql(client, "{ products(first: 5000) { totalCount } }")
    assert error_codes(body) == ["PAGE_SIZE_EXCEEDED"]


async def test_a_syntax_error_is_still_a_parse_error(client, db):
    assert error_codes(await gql(client, "{ products(")) == ["GRAPHQL_PARSE_FAILED"]


async def test_batched_requests_get_a_clear_400(client, db):
    response = await client.post("/graphql", json=[{"query": "{ __typename }"}] * 2)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "Batched requests" in error["message"]


async def test_an_oversized_body_is_refused_with_413_before_it_is_read(client, db):
    query = "{ __typename }" + " " * 200_000
    response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_a_chunked_body_is_counted_as_it_arrives(client, db):
    async def chunks():
        yield b'{"query": "{ __typename }", "padding": "'
        for _ in range(40):
            yield b"x" * 4096
        yield b'"}'

    response = await client.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_a_body_under_the_limit_passes(client, db):
    query = "{ __typename }" + " " * 100_000
    response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 200
    assert response.json()["data"] == {"__typename": "Query"}


async def test_large_documents_are_not_kept_in_the_caches(client, app):
    from strawberry.extensions.parser_cache import _get_parse_cache

    from schema.errors import MAX_CACHED_QUERY_LENGTH

    caches = app.state.graphql_view.schema.document_caches
    compiler = app.state.graphql_view.schema.compiler
    parse_cache = _get_parse_cache(1024)
    padding = " " * MAX_CACHED_QUERY_LENGTH  # insignificant whitespace: same document
    alias = f"u{uuid.uuid4().hex}"  # a document no earlier test has cached
    small = "{ " + alias + ": __typename facets { totalCount } }"
    # Counted in misses (a document stored), not in size: the caches may be full already.
    for query, cached in ((small + padding, False), (small, True)):
        parsed = parse_cache.cache_info().misses
        validated, measured = caches["validation"].misses, caches["limits"].misses
        compiled = compiler.compiled
        body = await gql(client, query)
        assert body["data"]["facets"]["totalCount"] == 0
        assert parse_cache.cache_info().misses - parsed == int(cached)
        assert caches["validation"].misses - validated == int(cached)
        assert caches["limits"].misses - measured == int(cached)
        assert compiler.compiled - compiled == int(cached)


async def test_a_slate_costs_what_it_writes(app, client, catalog):
    """Regression: 30 aliased `recommendations(first: 50) { eventId }` cost 30 of 1,000 and
    wrote 30 decision rows of ~5 KB each."""
    from models import RecommendationEvent
    from schema.writes import WRITE_COST

    one = await gql(client, '{ recommendations(first: 3, context: {sessionId: "s"}) { eventId } }')
    assert one["extensions"]["cost"]["requested"] == WRITE_COST + 1
    aliased = " ".join(
        f'r{i}: recommendations(first: 50, context: {{sessionId: "s"}}) {{ eventId }}'
        for i in range(30)
    )
    body = await gql(client, "{ " + aliased + " }")
    assert error_codes(body) == ["QUERY_TOO_COMPLEX"]
    assert body["errors"][0]["extensions"]["limit"] == "cost"
    await app.state.recommender.decisions.flush()
    assert await RecommendationEvent.all().count() == 1
