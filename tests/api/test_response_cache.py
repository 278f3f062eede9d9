"""The anonymous catalog response cache: hits, ETags, invalidation, and what is never cached."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import pytest_asyncio

from models import Product
from services import events
from web.response_cache import ResponseCache

QUERY = "{ products(first: 3, sort: {field: PRICE}) { edges { node { name inventory } } } }"


@pytest_asyncio.fixture(loop_scope="session")
async def cache(app, catalog):
    view = app.state.graphql_view
    cache = ResponseCache(ttl=30, max_entries=100, max_age=5)
    await cache.start(app.state.hub)
    view.response_cache = cache
    try:
        yield cache
    finally:
        view.response_cache = None
        await cache.stop()


async def test_anonymous_catalog_reads_are_served_from_cache(client, cache):
    first = await client.post("/graphql", json={"query": QUERY})
    second = await client.post("/graphql", json={"query": QUERY})
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert "x-cache" not in first.headers and second.headers["x-cache"] == "hit"
    assert first.headers["etag"] == second.headers["etag"]
    assert cache.hits == 1


async def test_get_with_a_matching_etag_is_not_modified(client, cache):
    first = await client.get("/graphql", params={"query": QUERY})
    assert first.headers["cache-control"] == "public, max-age=5"
    again = await client.get(
        "/graphql", params={"query": QUERY}, headers={"if-none-match": first.headers["etag"]}
    )
    assert again.status_code == 304 and again.content == b""


async def test_a_stock_change_invalidates_every_entry(client, cache, catalog):
    await client.post("/graphql", json={"query": QUERY})
    cheapest = (await client.post("/graphql", json={"query": QUERY})).json()
    name = cheapest["data"]["products"]["edges"][0]["node"]["name"]
    product = await Product.get(name=name)
    await Product.filter(id=product.id).update(inventory=product.inventory + 7)
    await events.inventory_changed(product.id, product.inventory + 7)
    for _ in range(50):  # the event arrives on the next turns of the loop
        if cache.generation() > 0:
            break
        await asyncio.sleep(0.01)
    fresh = (await client.post("/graphql", json={"query": QUERY})).json()
    assert fresh["data"]["products"]["edges"][0]["node"]["inventory"] == product.inventory + 7


async def test_signed_in_requests_and_other_fields_bypass_the_cache(client, cache, alice):
    for _ in range(2):
        await client.post(
            "/graphql", json={"query": QUERY}, headers={"authorization": f"Bearer {alice}"}
        )
        await client.post(
            "/graphql", json={"query": "{ me { id } products(first: 1) { edges { cursor } } }"}
        )
    assert cache.hits == 0


async def test_errors_are_not_cached(client, cache):
    bad = "{ products(first: 500) { edges { cursor } } }"
    for _ in range(2):
        response = await client.post("/graphql", json={"query": bad})
        assert "x-cache" not in response.headers
    assert cache.hits == 0


async def test_a_product_created_during_a_request_is_not_served_stale(client, cache):
    generation = cache.generation()
    await Product.create(
        name="Aaa First", price=Decimal("0.01"), category="Kitchen", brand="Arbor", inventory=1
    )
    await events.catalog_changed(0)
    for _ in range(100):  # the event arrives on the next turns of the loop
        if cache.generation() > generation:
            break
        await asyncio.sleep(0.01)
    assert cache.generation() > generation
    fresh = (await client.post("/graphql", json={"query": QUERY})).json()
    assert fresh["data"]["products"]["edges"][0]["node"]["name"] == "Aaa First"


async def test_the_cache_never_answers_a_request_the_view_would_refuse(client, cache):
    """Regression: once the JSON request was cached, the same body POSTed as text/plain was
    answered 200 from the cache; uncached it gets 415."""
    body = json.dumps({"query": QUERY})
    cached = await client.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert cached.status_code == 200
    for content_type in ("text/plain", "application/x-www-form-urlencoded", ""):
        refused = await client.post(
            "/graphql", content=body, headers={"content-type": content_type}
        )
        assert refused.status_code == 415, (content_type, refused.text)
        assert "x-cache" not in refused.headers
    assert cache.hits == 0


async def test_a_body_that_is_not_utf8_is_a_400(client, cache):
    """Regression: invalid UTF-8 in a JSON body was a 500 in text/plain."""
    response = await client.post(
        "/graphql",
        content=b'{"query": "{ \xff\xfe }"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
