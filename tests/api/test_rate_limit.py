"""The mutation rate limit over HTTP: per user or IP, whole operation refused, 429."""

from __future__ import annotations

import httpx
import pytest

from app import create_app
from models import User
from tests.support.apps import client_for
from tests.support.graphql import error_codes, gql

UPDATE = 'mutation { updateMe(input: {name: "%s"}) { user { name } } }'


@pytest.fixture
async def limited(app, settings, db):
    async with client_for(
        settings, recommender=app.state.recommender, rate_limit_mutations=2
    ) as client:
        yield client


async def test_over_the_limit_a_mutation_is_refused_with_429_and_not_run(limited, alice):
    for name in ("One", "Two"):
        body = await gql(limited, UPDATE % name, token=alice)
        assert body["data"]["updateMe"]["user"]["name"] == name
    response = await limited.post(
        "/graphql", json={"query": UPDATE % "Three"}, headers={"authorization": f"Bearer {alice}"}
    )
    assert response.status_code == 429
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 30
    body = response.json()
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": retry_after}
    assert (await User.get(clerk_id="user_alice")).name == "Two"


async def test_the_limit_is_per_user(limited, alice, bob):
    for _ in range(2):
        await gql(limited, UPDATE % "A", token=alice)
    assert error_codes(await gql(limited, UPDATE % "A", token=alice)) == ["RATE_LIMITED"]
    assert "errors" not in await gql(limited, UPDATE % "B", token=bob)


async def test_queries_are_never_throttled(limited, alice):
    for _ in range(2):
        await gql(limited, UPDATE % "A", token=alice)
    for _ in range(10):
        body = await gql(limited, "{ me { name } }", token=alice)
        assert body["data"]["me"]["name"] == "A"


async def test_anonymous_mutations_count_per_client_ip(settings, db):
    app = create_app(settings.model_copy(update={"rate_limit_mutations": 2}))

    def client(ip: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(ip, 1234))
        return httpx.AsyncClient(transport=transport, base_url="http://testserver")

    async with client("10.0.0.1") as first, client("10.0.0.2") as second:
        for _ in range(2):
            assert error_codes(await gql(first, UPDATE % "x")) == ["UNAUTHENTICATED"]
        assert error_codes(await gql(first, UPDATE % "x")) == ["RATE_LIMITED"]
        assert error_codes(await gql(second, UPDATE % "x")) == ["UNAUTHENTICATED"]


async def test_each_root_mutation_field_counts(limited, alice):
    aliased = 'mutation { a: updateMe(input: {name: "A"}) { user { name } } b: updateMe(input: {name: "B"}) { user { name } } }'  # noqa: E501
    assert "errors" not in await gql(limited, aliased, token=alice)
    assert error_codes(await gql(limited, UPDATE % "C", token=alice)) == ["RATE_LIMITED"]


async def test_more_mutations_in_one_operation_than_the_limit_is_refused_without_a_retry(
    limited, alice
):
    three = (
        "mutation { "
        + " ".join(
            f'm{i}: updateMe(input: {{name: "{i}"}}) {{ user {{ name }} }}' for i in range(3)
        )
        + " }"
    )
    response = await limited.post(
        "/graphql", json={"query": three}, headers={"authorization": f"Bearer {alice}"}
    )
    assert response.status_code == 429
    assert "retry-after" not in response.headers
    assert error_codes(response.json()) == ["RATE_LIMITED"]


async def test_429_also_under_the_graphql_response_media_type(limited, alice):
    headers = {"authorization": f"Bearer {alice}", "accept": "application/graphql-response+json"}
    for _ in range(2):
        await limited.post("/graphql", json={"query": UPDATE % "A"}, headers=headers)
    response = await limited.post("/graphql", json={"query": UPDATE % "A"}, headers=headers)
    assert response.status_code == 429
    assert response.headers["content-type"].startswith("application/graphql-response+json")


async def test_the_default_test_settings_do_not_throttle(client, alice):
    for i in range(30):
        assert "errors" not in await gql(client, UPDATE % i, token=alice)


@pytest.mark.redis
async def test_with_redis_the_budget_is_shared_by_every_process(settings, db, alice, redis_url):
    """Two apps stand for two worker processes sharing one Redis."""
    from redis.asyncio import Redis

    from core.rate_limit import RedisRateLimiter

    async with (
        client_for(settings, rate_limit_mutations=2, broadcast_url=redis_url) as first,
        client_for(settings, rate_limit_mutations=2, rate_limit_redis_url=redis_url) as second,
    ):
        await gql(first, "{ me { id } }", token=alice)  # creates the user
        db_id = (await User.get(clerk_id="user_alice")).id
        redis = Redis.from_url(redis_url)
        try:
            # Ids restart with every test database: forget an earlier test's budget.
            await redis.delete(f"shopgraph:ratelimit:user:{db_id}")
            assert "errors" not in await gql(first, UPDATE % "A", token=alice)
            assert "errors" not in await gql(second, UPDATE % "B", token=alice)
            assert error_codes(await gql(first, UPDATE % "C", token=alice)) == ["RATE_LIMITED"]
            assert await redis.exists(f"shopgraph:ratelimit:user:{db_id}")
        finally:
            await redis.aclose()
        for client in (first, second):
            limiter = client.app.state.rate_limiter  # type: ignore[attr-defined]
            assert isinstance(limiter, RedisRateLimiter)
            await limiter.aclose()


SLATES = (
    '{ a: recommendations(first: 3, context: {sessionId: "s"}) { eventId } '
    + 'b: recommendations(first: 3, context: {sessionId: "s"}) { eventId } }'
)


async def test_recommendation_slates_count_as_writes(app, limited, catalog):
    """Regression: queries that write a decision row per slate were never rate-limited."""
    from models import RecommendationEvent

    decisions = app.state.recommender.decisions
    assert "errors" not in await gql(limited, SLATES)  # two writes: the budget of 2 is spent
    await decisions.flush()
    written = await RecommendationEvent.all().count()
    assert written == 2
    refused = await limited.post("/graphql", json={"query": SLATES})
    assert refused.status_code == 429
    assert error_codes(refused.json()) == ["RATE_LIMITED"]
    await decisions.flush()
    assert await RecommendationEvent.all().count() == written  # refused before any resolver
    # Reading the catalog is never throttled.
    assert "errors" not in await gql(limited, "{ products(first: 1) { totalCount } }")
