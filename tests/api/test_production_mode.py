"""ENV=prod: no introspection, no GraphiQL, no schema details in errors, masked unexpected
errors. (Trusted documents, the prod default, are tested in test_trusted_documents.)"""

from __future__ import annotations

import logging

import pytest

from schema.errors import INVALID_REQUEST_MESSAGE
from services import catalog
from tests.support.apps import client_for, prod_overrides
from tests.support.graphql import error_codes, gql

# (query, variables, what the client misspelt, the schema name it must not learn in prod)
MISSPELT = [
    ("{ produc }", None, "produc", "products"),
    ("{ products(frist: 1) { totalCount } }", None, "frist", "first"),
    ("{ products(sort: {field: PRICEE}) { totalCount } }", None, "PRICEE", "PRICE"),
    ('{ products(filter: {categry: ["x"]}) { totalCount } }', None, "categry", "category"),
    ('{ node(id: "x") { ... on Prodcut { id } } }', None, "Prodcut", "Product"),
    ("query($s: ProductSortt) { products(sort: $s) { totalCount } }", None, "ProductSortt",
     "ProductSort"),
    # Coerced at execution time, after validation: the error policy strips these.
    ("query($s: ProductSort) { products(sort: $s) { totalCount } }", {"s": {"field": "PRICEE"}},
     "PRICEE", "PRICE"),
    ("query($f: ProductFilter) { products(filter: $f) { totalCount } }",
     {"f": {"categry": ["x"]}}, "categry", "category"),
]  # fmt: skip


@pytest.fixture
async def prod(settings, db):
    """Prod running any document (OPERATIONS=any; trusted mode: test_trusted_documents)."""
    async with client_for(settings, **prod_overrides(operations="any")) as client:
        yield client


@pytest.fixture
async def quiet(settings, db):
    """Not prod, introspection off: errors keep their details but suggest nothing."""
    async with client_for(settings, graphql_introspection=False) as client:
        yield client


@pytest.mark.parametrize(("query", "variables", "misspelt", "hidden"), MISSPELT)
async def test_errors_suggest_nothing_with_introspection_off(
    quiet, query, variables, misspelt, hidden
):
    body = await gql(quiet, query, variables)
    assert body["errors"], body
    for error in body["errors"]:
        assert "Did you mean" not in error["message"]
        assert hidden not in error["message"].replace(misspelt, ""), error["message"]
        assert error["extensions"]["code"] in ("GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT")


async def test_the_misspelt_field_is_not_leaked_but_the_error_is_still_useful(quiet):
    body = await gql(quiet, "{ produc }")
    assert body["errors"][0]["message"] == "Cannot query field 'produc' on type 'Query'."
    assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]


@pytest.mark.parametrize(("query", "variables", "misspelt", "hidden"), MISSPELT)
async def test_prod_answers_one_generic_error_and_logs_the_details(
    prod, caplog, query, variables, misspelt, hidden
):
    with caplog.at_level(logging.INFO, logger="shopgraph.errors"):
        response = await prod.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"x-request-id": "req-generic-1"},
        )
    assert response.json() == {
        "errors": [
            {
                "message": INVALID_REQUEST_MESSAGE,
                "extensions": {"code": "GRAPHQL_VALIDATION_FAILED", "requestId": "req-generic-1"},
            }
        ]
    }
    [record] = [r for r in caplog.records if r.name == "shopgraph.errors"]
    assert record.request_id == "req-generic-1"
    assert misspelt in record.getMessage()


@pytest.mark.parametrize(("query", "variables", "misspelt", "hidden"), [MISSPELT[0], MISSPELT[-1]])
async def test_dev_keeps_the_suggestions(client, query, variables, misspelt, hidden):
    body = await gql(client, query, variables)
    assert any("Did you mean" in e["message"] and hidden in e["message"] for e in body["errors"])


@pytest.mark.parametrize(
    "query", ["{ __schema { types { name } } }", '{ __type(name: "Product") { name } }']
)
async def test_prod_refuses_introspection(prod, query, caplog):
    with caplog.at_level(logging.INFO, logger="shopgraph.errors"):
        body = await gql(prod, query)
    assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert body["errors"][0]["message"] == INVALID_REQUEST_MESSAGE
    assert any("introspection has been disabled" in r.getMessage() for r in caplog.records)


async def test_typename_still_works_in_prod(prod):
    assert (await gql(prod, "{ __typename }"))["data"] == {"__typename": "Query"}


async def test_introspection_and_graphiql_can_be_enabled_in_prod(settings, db):
    overrides = prod_overrides(graphql_introspection=True, graphiql=True, operations="any")
    async with client_for(settings, **overrides) as client:
        body = await gql(client, "{ __schema { queryType { name } } }")
        assert body["data"] == {"__schema": {"queryType": {"name": "Query"}}}
        page = await client.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 200
        assert "graphiql" in page.text.lower()


async def test_prod_serves_no_graphiql(prod):
    response = await prod.get("/graphql", headers={"accept": "text/html"})
    assert "graphiql" not in response.text.lower()
    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_dev_serves_graphiql(client):
    response = await client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_prod_masks_unexpected_errors_and_logs_the_details(prod, monkeypatch, caplog):
    async def broken(_flt):
        raise RuntimeError("connection to 10.0.0.7 refused (password=hunter2)")

    monkeypatch.setattr(catalog, "facets", broken)
    with caplog.at_level(logging.ERROR, logger="shopgraph.errors"):
        response = await prod.post(
            "/graphql",
            json={"query": "{ facets { totalCount } }"},
            headers={"x-request-id": "req-masking-1"},
        )
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["message"] == "Internal server error"
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-masking-1"}
    assert "hunter2" not in response.text and "RuntimeError" not in response.text
    [record] = [r for r in caplog.records if r.name == "shopgraph.errors"]
    assert record.request_id == "req-masking-1"
    assert "hunter2" in str(record.exc_info[1])


async def test_dev_shows_the_exception_to_the_developer(client, monkeypatch):
    async def broken(_flt):
        raise RuntimeError("boom")

    monkeypatch.setattr(catalog, "facets", broken)
    body = await gql(client, "{ facets { totalCount } }")
    assert body["errors"][0]["message"] == "Internal server error: RuntimeError: boom"
    assert error_codes(body) == ["INTERNAL_SERVER_ERROR"]


def costly(root: str, extra: str = "") -> str:
    edges = " ".join(f"e{i}: edges {{ node {{ id }} }}" for i in range(12))
    return f"{{ {root}(first: 100) {{ {edges} }} {extra} }}"


async def test_prod_refuses_for_cost_only_documents_that_are_valid(prod):
    # The cost counts a real connection by its page size and a made-up field as one object:
    # refusing an invalid document for its cost would tell that `products` exists.
    answers = []
    for root in ("products", "produkts"):
        body = await gql(prod, costly(root, extra="nope"))
        body["errors"][0]["extensions"].pop("requestId")
        answers.append(body)
    assert (
        answers[0]
        == answers[1]
        == {
            "errors": [
                {
                    "message": INVALID_REQUEST_MESSAGE,
                    "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
                }
            ]
        }
    )
    # A valid document is refused for its cost as before.
    assert error_codes(await gql(prod, costly("products"))) == ["QUERY_TOO_COMPLEX"]


async def test_outside_prod_the_cost_is_still_checked_before_validation(client):
    body = await gql(client, costly("products", extra="nope"))
    assert error_codes(body) == ["QUERY_TOO_COMPLEX"]
