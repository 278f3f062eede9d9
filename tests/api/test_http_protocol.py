"""GraphQL over HTTP: methods, media types and status codes, and malformed requests."""

from __future__ import annotations

import pytest

from tests.support.graphql import count_queries, gql_data

QUERY = "{ products(first: 2) { totalCount } }"


async def test_get_with_query_parameters(client, catalog):
    response = await client.get("/graphql", params={"query": QUERY})
    assert response.status_code == 200
    assert response.json()["data"]["products"]["totalCount"] > 0


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400),
        ({"content": b"query { x }", "headers": {"content-type": "text/plain"}}, 415),
        ({"json": {"query": 42}}, 400),
        ({"json": {"query": QUERY, "variables": "oops"}}, 400),
        ({"json": {"variables": {}}}, 400),
    ],
)
async def test_malformed_requests_get_json_errors_with_a_code(client, kwargs, status):
    response = await client.post("/graphql", **kwargs)
    assert response.status_code == status
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert body["errors"][0]["message"]


async def test_validation_errors_follow_the_accepted_media_type(client, db):
    legacy = await client.post("/graphql", json={"query": "{ nope }"})
    assert legacy.status_code == 200
    assert legacy.headers["content-type"].startswith("application/json")
    assert "data" not in legacy.json()
    assert legacy.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"

    modern = await client.post(
        "/graphql",
        json={"query": "{ nope }"},
        headers={"accept": "application/graphql-response+json"},
    )
    assert modern.status_code == 400
    assert modern.headers["content-type"].startswith("application/graphql-response+json")


async def test_syntax_errors_have_their_own_code(client, db):
    response = await client.post("/graphql", json={"query": "{ products(first: "})
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


async def test_unsupported_methods_are_refused(client, db):
    response = await client.put("/graphql", json={"query": QUERY})
    assert response.status_code == 405


NESTED = """
query($first: Int!) {
  products(first: $first) {
    edges { node { id name price { amount } stats { views ticks purchases } } }
  }
}
"""


async def test_sql_query_count_does_not_grow_with_page_size(client, catalog):
    with count_queries() as small:
        data = await gql_data(client, NESTED, {"first": 10})
    assert len(data["products"]["edges"]) == 10
    with count_queries() as large:
        data = await gql_data(client, NESTED, {"first": 100})
    assert len(data["products"]["edges"]) == 100
    assert len(small) == len(large) == 2, (small, large)
