"""GCRA rate limiting in memory and in Redis."""

from __future__ import annotations

import uuid

import pytest
from prometheus_client import REGISTRY

from core.rate_limit import (
    MemoryRateLimiter,
    RedisRateLimiter,
    UnlimitedRateLimiter,
    create_rate_limiter,
)
from core.settings import Settings

BACKEND_ERRORS = "shopgraph_rate_limit_backend_errors_total"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_burst_of_the_limit_then_one_per_interval():
    clock = Clock()
    limiter = MemoryRateLimiter(3, 60.0, clock=clock)
    assert [(await limiter.hit("k")).allowed for _ in range(3)] == [True] * 3
    refused = await limiter.hit("k")
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(20.0)
    clock.now += 19.9
    assert not (await limiter.hit("k")).allowed
    clock.now += 0.1
    assert (await limiter.hit("k")).allowed
    assert not (await limiter.hit("k")).allowed


@pytest.mark.parametrize("limit", [2, 3, 7, 60, 1000])
@pytest.mark.parametrize("start", [1000.0, 12345.678901, 987654.321987])
async def test_a_burst_of_exactly_the_limit_always_fits(limit, start):
    # Regression: in floats `now + 60.0 - 60.0 > now` for some clocks, and a burst of the
    # full limit was refused at random (a flaky API test found it).
    clock = Clock()
    clock.now = start
    limiter = MemoryRateLimiter(limit, 60.0, clock=clock)
    assert (await limiter.hit("one", cost=limit)).allowed
    assert not (await limiter.hit("one")).allowed
    assert all([(await limiter.hit("many")).allowed for _ in range(limit)])
    assert not (await limiter.hit("many")).allowed


async def test_keys_are_independent_and_cost_counts():
    clock = Clock()
    limiter = MemoryRateLimiter(3, 60.0, clock=clock)
    assert (await limiter.hit("a", cost=2)).allowed
    refused = await limiter.hit("a", cost=2)
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(20.0)
    assert (await limiter.hit("b", cost=3)).allowed
    # A cost above the limit can never be allowed: no retry hint.
    never = await limiter.hit("c", cost=4)
    assert (never.allowed, never.retry_after) == (False, None)


async def test_refused_requests_do_not_use_up_the_budget():
    clock = Clock()
    limiter = MemoryRateLimiter(1, 10.0, clock=clock)
    assert (await limiter.hit("k")).allowed
    for _ in range(5):
        assert not (await limiter.hit("k")).allowed
    clock.now += 10
    assert (await limiter.hit("k")).allowed


async def test_expired_keys_are_swept(monkeypatch):
    clock = Clock()
    limiter = MemoryRateLimiter(5, 1.0, clock=clock)
    monkeypatch.setattr(MemoryRateLimiter, "SWEEP_AT", 10)
    for i in range(10):
        await limiter.hit(f"old{i}")
    clock.now += 5
    await limiter.hit("new")
    assert set(limiter._tat) == {"new"}


def test_settings_defaults_are_generous_outside_prod():
    assert Settings(env="dev").mutation_rate_limit == 100_000
    assert Settings(env="test").mutation_rate_limit == 100_000
    assert Settings(env="prod").mutation_rate_limit == 60
    assert Settings(env="prod", rate_limit_mutations=5).mutation_rate_limit == 5


def test_the_backend_follows_the_settings():
    redis = "redis://127.0.0.1:6379/0"
    assert Settings(broadcast_url=redis).resolved_rate_limit_url == redis
    assert Settings().resolved_rate_limit_url == "memory://"
    assert (
        Settings(broadcast_url=redis, rate_limit_redis_url="memory://").resolved_rate_limit_url
        == "memory://"
    )
    assert isinstance(create_rate_limiter("memory://", 0, 60), UnlimitedRateLimiter)
    assert isinstance(create_rate_limiter("memory://", 5, 60), MemoryRateLimiter)
    with pytest.raises(ValueError, match="scheme"):
        create_rate_limiter("http://x", 5, 60)


@pytest.mark.redis
async def test_redis_limit_is_shared_between_processes(redis_url):
    prefix = f"test:{uuid.uuid4().hex}:"
    first = RedisRateLimiter(redis_url, 3, 60.0, prefix=prefix)
    second = RedisRateLimiter(redis_url, 3, 60.0, prefix=prefix)
    try:
        assert (await first.hit("user:1")).allowed
        assert (await second.hit("user:1")).allowed
        assert (await first.hit("user:1")).allowed
        refused = await second.hit("user:1")
        assert not refused.allowed
        assert 19.0 < refused.retry_after <= 20.0
        assert (await second.hit("user:2")).allowed
        never = await first.hit("user:3", cost=4)
        assert (never.allowed, never.retry_after) == (False, None)
    finally:
        await first.aclose()
        await second.aclose()


@pytest.mark.redis
async def test_redis_allows_a_burst_of_exactly_the_limit(redis_url):
    # Regression: the interval was rounded up, so 7 per 60 s refused the 7th of a burst.
    limiter = RedisRateLimiter(redis_url, 7, 60.0, prefix=f"test:{uuid.uuid4().hex}:")
    try:
        assert [(await limiter.hit("k")).allowed for _ in range(8)] == [True] * 7 + [False]
    finally:
        await limiter.aclose()


@pytest.mark.redis
async def test_redis_keys_expire_once_the_budget_is_back(redis_url):
    from redis.asyncio import Redis

    prefix = f"test:{uuid.uuid4().hex}:"
    limiter = RedisRateLimiter(redis_url, 2, 10.0, prefix=prefix)
    client = Redis.from_url(redis_url)
    try:
        await limiter.hit("k")
        ttl_ms = await client.pttl(prefix + "k")
        assert 0 < ttl_ms <= 5_001
    finally:
        await limiter.aclose()
        await client.aclose()


async def test_an_unreachable_redis_falls_back_to_memory(caplog):
    limiter = RedisRateLimiter("redis://127.0.0.1:1/0", 2, 60.0, timeout=0.2)
    errors_before = REGISTRY.get_sample_value(BACKEND_ERRORS)
    try:
        decisions = [await limiter.hit("user:1") for _ in range(3)]
    finally:
        await limiter.aclose()
    assert [d.allowed for d in decisions] == [True, True, False]
    assert REGISTRY.get_sample_value(BACKEND_ERRORS) - errors_before == 3
    warnings = [r for r in caplog.records if "Redis unreachable" in r.getMessage()]
    assert len(warnings) == 1
