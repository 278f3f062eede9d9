"""Persisted documents over HTTP: `documentId`, APQ, GET with the response cache, trusted mode."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid

import pytest
from graphql.language.parser import Parser
from strawberry.extensions.parser_cache import _get_parse_cache

import schema.validation
from services.documents import add_documents
from tests.support.apps import client_for, prod_overrides
from tests.support.graphql import error_codes, gql

CATALOG = "query Catalog($first: Int!) { products(first: $first) { totalCount } }"
ME = "query Me { me { id } }"
ADD = (
    "mutation Add($productId: ID!) { addToCart(productId: $productId, quantity: 1) "
    "{ userErrors { code } } }"
)
PING = "query Ping { __typename }"
PAGES = "query Pages($first: Int!) { a: products(first: $first) { edges { node { id } } } }"
UNREGISTERED = "query Other { facets { totalCount } }"
TRUSTED_MESSAGE = (
    "This API runs trusted documents only: send the documentId of a registered document"
)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def by_id(text: str, variables: dict | None = None) -> dict:
    return {"documentId": f"sha256:{sha(text)}", "variables": variables or {}}


def apq(text: str, *, with_query: bool = False, variables: dict | None = None) -> dict:
    body: dict = {
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha(text)}},
        "variables": variables or {},
    }
    if with_query:
        body["query"] = text
    return body


@pytest.fixture
def manifest(tmp_path):
    path = tmp_path / "persisted-documents.json"
    path.write_text(json.dumps({f"sha256:{sha(d)}": d for d in (CATALOG, ME, ADD, PING, PAGES)}))
    return path


@pytest.fixture
async def trusted(settings, db, manifest):
    """Prod, trusted documents only (its default), with the manifest above."""
    overrides = prod_overrides(persisted_documents_files=[str(manifest)], response_cache=True)
    async with client_for(settings, **overrides) as client:
        yield client


@pytest.fixture
async def open_api(settings, db, manifest):
    """Prod running any document (OPERATIONS=any), APQ on."""
    overrides = prod_overrides(operations="any", persisted_documents_files=[str(manifest)])
    async with client_for(settings, **overrides) as client:
        yield client


# --- trusted mode ----------------------------------------------------------------------


async def test_a_registered_document_runs_by_its_id(trusted):
    response = await trusted.post("/graphql", json=by_id(CATALOG, {"first": 2}))
    assert response.json()["data"] == {"products": {"totalCount": 0}}
    assert response.json()["extensions"]["cost"]["requested"] == 1


async def test_the_apq_hash_of_a_registered_document_runs_too(trusted):
    response = await trusted.post("/graphql", json=apq(CATALOG, variables={"first": 2}))
    assert response.json()["data"] == {"products": {"totalCount": 0}}


@pytest.mark.parametrize(
    "body",
    [
        {"query": UNREGISTERED},
        {"query": "{ nonsense { made up } }"},
        {"query": CATALOG, "variables": {"first": 1}},  # even a registered text: send the id
        apq(UNREGISTERED, with_query=True),  # APQ registration
        {"query": "{ __schema { types { name } } }"},
    ],
    ids=["valid", "invalid", "registered-text", "apq-registration", "introspection"],
)
async def test_any_document_sent_in_full_gets_the_one_fixed_error(trusted, body):
    response = await trusted.post("/graphql", json=body)
    assert response.status_code == 200
    fixed = {"message": TRUSTED_MESSAGE, "extensions": {"code": "TRUSTED_DOCUMENT_REQUIRED"}}
    assert response.json() == {"errors": [fixed]}
    strict = await trusted.post(
        "/graphql", json=body, headers={"accept": "application/graphql-response+json"}
    )
    assert strict.status_code == 400
    assert strict.headers["content-type"] == "application/graphql-response+json"


async def test_a_full_document_over_get_is_refused_the_same_way(trusted):
    response = await trusted.get("/graphql", params={"query": UNREGISTERED})
    assert error_codes(response.json()) == ["TRUSTED_DOCUMENT_REQUIRED"]


async def test_unknown_and_malformed_ids(trusted):
    unknown = await trusted.post("/graphql", json=by_id(UNREGISTERED))
    assert error_codes(unknown.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
    unknown_apq = await trusted.post("/graphql", json=apq(UNREGISTERED))
    assert unknown_apq.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    for document_id in ("sha1:abc", "sha256:xyz", 42):
        malformed = await trusted.post("/graphql", json={"documentId": document_id})
        assert malformed.status_code == 400
        assert error_codes(malformed.json()) == ["BAD_REQUEST"]
    bad_version = {"extensions": {"persistedQuery": {"version": 2, "sha256Hash": sha(ME)}}}
    assert (await trusted.post("/graphql", json=bad_version)).status_code == 400


async def test_get_by_id_has_a_stable_url_and_the_response_cache_rules(trusted):
    params = {"documentId": f"sha256:{sha(CATALOG)}", "variables": '{"first":2}'}
    first = await trusted.get("/graphql", params=params, headers={"accept": "*/*"})
    assert first.status_code == 200, first.text
    assert first.json()["data"] == {"products": {"totalCount": 0}}
    assert first.headers["cache-control"] == "public, max-age=5"
    again = await trusted.get(
        "/graphql", params=params, headers={"accept": "*/*", "if-none-match": first.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.headers["x-cache"] == "hit"


async def test_a_signed_in_get_is_not_cached(trusted):
    from tests.support.apps import prod_token

    params = {"documentId": f"sha256:{sha(ME)}"}
    headers = {"authorization": f"Bearer {prod_token('user_persisted')}"}
    response = await trusted.get("/graphql", params=params, headers=headers)
    assert response.json()["data"]["me"]["id"]
    assert "etag" not in response.headers and "cache-control" not in response.headers


async def test_a_mutation_by_id_is_post_only(trusted):
    params = {"documentId": f"sha256:{sha(ADD)}", "variables": '{"productId":"UHJvZHVjdDox"}'}
    over_get = await trusted.get("/graphql", params=params)
    assert over_get.status_code == 405
    assert over_get.headers["allow"] == "GET, POST"
    over_post = await trusted.post("/graphql", json=by_id(ADD, {"productId": "UHJvZHVjdDox"}))
    assert over_post.status_code == 200
    assert error_codes(over_post.json()) == ["UNAUTHENTICATED"]


async def test_the_schema_refuses_unregistered_documents_whatever_the_transport(trusted):
    # A transport that forgot to check still cannot run an arbitrary document.
    schema = trusted.app.state.graphql_view.schema
    for query, name in ((UNREGISTERED, "Other"), ("{ nonsense }", None), ("{ {", None)):
        result = await schema.execute(query, operation_name=name)
        assert result.data is None
        assert [e.message for e in result.errors] == [TRUSTED_MESSAGE]
        assert result.errors[0].extensions["code"] == "TRUSTED_DOCUMENT_REQUIRED"
    ok = await schema.execute(PING)
    assert ok.errors is None and ok.data == {"__typename": "Query"}


# --- automatic persisted queries (OPERATIONS=any) ----------------------------------------


async def test_apq_round_trip(open_api):
    first = await open_api.post("/graphql", json=apq(UNREGISTERED))
    assert first.json()["errors"][0] == {
        "message": "PersistedQueryNotFound",
        "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
    }
    registered = await open_api.post("/graphql", json=apq(UNREGISTERED, with_query=True))
    assert registered.json()["data"] == {"facets": {"totalCount": 0}}
    again = await open_api.post("/graphql", json=apq(UNREGISTERED))
    assert again.json()["data"] == {"facets": {"totalCount": 0}}
    # ...and over GET, where hash-only requests have stable URLs.
    params = {"extensions": json.dumps(apq(UNREGISTERED)["extensions"])}
    over_get = await open_api.get("/graphql", params=params, headers={"accept": "*/*"})
    assert over_get.json()["data"] == {"facets": {"totalCount": 0}}


async def test_apq_checks_the_hash(open_api):
    body = apq(UNREGISTERED, with_query=True)
    body["query"] = "query Other { facets { totalCount } } "
    response = await open_api.post("/graphql", json=body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "provided sha does not match query"


async def test_apq_does_not_remember_an_invalid_document(open_api):
    bad = "{ nonsense { made up } }"
    refused = await open_api.post("/graphql", json=apq(bad, with_query=True))
    assert error_codes(refused.json()) == ["GRAPHQL_VALIDATION_FAILED"]
    again = await open_api.post("/graphql", json=apq(bad))
    assert error_codes(again.json()) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_apq_can_be_turned_off(settings, db):
    async with client_for(settings, apq_cache_size=0) as client:
        response = await client.post("/graphql", json=apq(UNREGISTERED))
        assert error_codes(response.json()) == ["PERSISTED_QUERY_NOT_SUPPORTED"]
        # A client that gets this sends full documents from then on, which still run.
        body = await gql(client, UNREGISTERED)
        assert body["data"] == {"facets": {"totalCount": 0}}


async def test_the_apq_cache_is_bounded(settings, db):
    async with client_for(settings, apq_cache_size=2) as client:
        documents = [f"query Q{i} {{ facets {{ totalCount }} }}" for i in range(3)]
        for document in documents:
            await client.post("/graphql", json=apq(document, with_query=True))
        oldest = await client.post("/graphql", json=apq(documents[0]))
        newest = await client.post("/graphql", json=apq(documents[2]))
        assert error_codes(oldest.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
        assert newest.json()["data"] == {"facets": {"totalCount": 0}}


# --- prepared documents skip parsing and validation -------------------------------------


@pytest.fixture
def spies(monkeypatch):
    """Counts graphql-core parses and validations (lookups of the validation cache, hits
    included)."""
    calls = {"parse": 0, "validate": 0}
    parse_document = Parser.parse_document
    validate = schema.validation.ValidationCache.errors

    def counting_parse(self):
        calls["parse"] += 1
        return parse_document(self)

    def counting_validate(*args, **kwargs):
        calls["validate"] += 1
        return validate(*args, **kwargs)

    monkeypatch.setattr(Parser, "parse_document", counting_parse)
    monkeypatch.setattr(schema.validation.ValidationCache, "errors", counting_validate)
    return calls


@pytest.fixture
def parse_cache_lookups():
    parse_cache = _get_parse_cache(1024)

    def lookups() -> int:
        info = parse_cache.cache_info()
        return info.hits + info.misses

    return lookups


async def test_a_persisted_request_is_neither_parsed_nor_validated(
    open_api, spies, parse_cache_lookups
):
    lookups = parse_cache_lookups()
    for body in (by_id(CATALOG, {"first": 1}), apq(CATALOG, variables={"first": 1})):
        response = await open_api.post("/graphql", json=body)
        assert response.json()["data"] == {"products": {"totalCount": 0}}
    assert spies == {"parse": 0, "validate": 0}
    assert parse_cache_lookups() == lookups  # not even a cache lookup
    # The control: a document never seen before goes through both.
    fresh = f"query Fresh {{ u{uuid.uuid4().hex}: facets {{ totalCount }} }}"
    await open_api.post("/graphql", json={"query": fresh})
    assert spies == {"parse": 1, "validate": 1}
    assert parse_cache_lookups() == lookups + 1


async def test_a_prepared_document_still_pays_its_cost_limit(settings, db, manifest):
    # The cost depends on the page size: a memo per document must not mix variants up.
    overrides = {"operations": "any", "persisted_documents_files": [str(manifest)]}
    async with client_for(settings, graphql_max_cost=150, **overrides) as client:
        for first, requested in ((50, 1 + 50 * 2), (10, 1 + 10 * 2), (50, 101), (100, 201)):
            body = (await client.post("/graphql", json=by_id(PAGES, {"first": first}))).json()
            assert body["extensions"]["cost"] == {"requested": requested, "limit": 150}
            if requested > 150:
                assert error_codes(body) == ["QUERY_TOO_COMPLEX"]
            else:
                assert "errors" not in body


# --- documents stored in the database ---------------------------------------------------


async def test_documents_added_to_the_database_are_trusted_after_a_refresh(
    settings, db, manifest, caplog
):
    document = "query Stored { facets { totalCount } }"
    broken = "query Broken { gone }"
    overrides = prod_overrides(persisted_documents_files=[str(manifest)])
    async with client_for(settings, **overrides) as client:
        before = await client.post("/graphql", json=by_id(document))
        assert error_codes(before.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
        # Stored by an older schema's `shop documents add`: it no longer validates.
        await add_documents({sha(document): document, sha(broken): broken}, source="test")
        with caplog.at_level(logging.ERROR, logger="shopgraph.documents"):
            assert await client.app.state.document_sync.refresh() == 1
        after = await client.post("/graphql", json=by_id(document))
        assert after.json()["data"] == {"facets": {"totalCount": 0}}
        assert any(sha(broken) in r.getMessage() for r in caplog.records)
        assert await client.app.state.document_sync.refresh() == 0  # only new rows
