"""Rate limiting with GCRA (the generic cell rate algorithm), in process memory or Redis.

`limit` requests per `window` seconds for each key, with bursts of up to `limit`: the
bucket refills continuously at one request every `window / limit` seconds, so there is no
window boundary at which a client could fire twice the limit. The state per key is one
number, the theoretical arrival time (TAT); a request of `cost` is allowed when
`max(TAT, now) + cost * interval - window <= now`.

`RedisRateLimiter` runs the same arithmetic in one Lua script (atomic, on Redis's clock), so
every process sharing the Redis counts against the same budget. While Redis is unreachable
it falls back to a per-process `MemoryRateLimiter` rather than refusing or waving through
every request, and logs once per change of state.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlparse

from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.metrics import RATE_LIMIT_BACKEND_ERRORS

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    # Seconds until a request of the same cost would be allowed (0 when allowed); None when
    # it never will be (the cost alone exceeds the limit).
    retry_after: float | None = 0.0


class RateLimiter(Protocol):
    limit: int
    window: float

    async def hit(self, key: str, cost: int = 1) -> Decision: ...

    async def aclose(self) -> None: ...


def interval_us(limit: int, window: float) -> int:
    """Microseconds per request, rounded down: a burst of exactly `limit` always fits the
    window (rounding up, 7 per 60 s would refuse the 7th request of a burst)."""
    return int(window * 1_000_000) // limit


def gcra(tat: int | None, now: int, *, interval: int, window: int, cost: int):
    """One GCRA step in integer microseconds: (decision, new TAT or None when refused).

    Integers, because in floats `now + 60.0 - 60.0` can land a hair after `now`, and a
    burst of exactly the limit was then refused at random.
    """
    tat = now if tat is None else max(tat, now)
    new_tat = tat + cost * interval
    allow_at = new_tat - window
    if allow_at <= now:
        return Decision(True), new_tat
    return Decision(False, (allow_at - now) / 1_000_000), None


class MemoryRateLimiter:
    """GCRA in this process's memory (one process; tests; fallback while Redis is down)."""

    # Expired keys are swept once the table grows past this many entries.
    SWEEP_AT = 10_000

    def __init__(
        self, limit: int, window: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._tat: dict[str, int] = {}

    async def hit(self, key: str, cost: int = 1) -> Decision:
        if cost > self.limit:
            return Decision(False, None)
        now = round(self.clock() * 1_000_000)
        decision, new_tat = gcra(
            self._tat.get(key),
            now,
            interval=interval_us(self.limit, self.window),
            window=int(self.window * 1_000_000),
            cost=cost,
        )
        if new_tat is not None:
            self._tat[key] = new_tat
            if len(self._tat) > self.SWEEP_AT:
                self._tat = {k: t for k, t in self._tat.items() if t > now}
        return decision

    async def aclose(self) -> None:
        self._tat.clear()


# KEYS[1]: the key. ARGV: interval (µs), window (µs), cost. Returns {allowed, retry_after µs}.
# TIME is Redis's clock, so processes on different hosts agree on "now".
_GCRA_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + cost * interval
local allow_at = new_tat - window
if allow_at > now then
  return {0, allow_at - now}
end
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((new_tat - now) / 1000) + 1)
return {1, 0}
"""


class RedisRateLimiter:
    """GCRA in Redis, shared by every process using the same Redis and prefix."""

    def __init__(
        self,
        url: str,
        limit: int,
        window: float,
        *,
        prefix: str = "shopgraph:ratelimit:",
        timeout: float = 0.25,
    ) -> None:
        self.limit = limit
        self.window = window
        self.prefix = prefix
        # A slow or absent Redis must not stall mutations: short timeouts, then fallback.
        self._redis = Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self._script = self._redis.register_script(_GCRA_LUA)
        self._fallback = MemoryRateLimiter(limit, window)
        self._degraded = False

    async def hit(self, key: str, cost: int = 1) -> Decision:
        if cost > self.limit:
            return Decision(False, None)
        interval = interval_us(self.limit, self.window)
        try:
            allowed, retry_after_us = await self._script(
                keys=[self.prefix + key], args=[interval, int(self.window * 1_000_000), cost]
            )
        except (TimeoutError, RedisError, OSError) as exc:
            RATE_LIMIT_BACKEND_ERRORS.inc()
            if not self._degraded:
                self._degraded = True
                log.warning("rate limiter: Redis unreachable (%s); counting in memory", exc)
            return await self._fallback.hit(key, cost)
        if self._degraded:
            self._degraded = False
            log.info("rate limiter: Redis reachable again")
        if allowed:
            return Decision(True)
        return Decision(False, int(retry_after_us) / 1_000_000)

    async def aclose(self) -> None:
        await self._redis.aclose()


class UnlimitedRateLimiter:
    """Allows everything (limit 0 in the settings)."""

    limit = 0
    window = 0.0

    async def hit(self, key: str, cost: int = 1) -> Decision:
        return Decision(True)

    async def aclose(self) -> None:
        return None


def create_rate_limiter(url: str, limit: int, window: float, **redis_options) -> RateLimiter:
    """`memory://` or `redis://`/`rediss://`; `limit` 0 means unlimited."""
    if limit == 0:
        return UnlimitedRateLimiter()
    scheme = urlparse(url).scheme
    if scheme == "memory":
        return MemoryRateLimiter(limit, window)
    if scheme in ("redis", "rediss"):
        return RedisRateLimiter(url, limit, window, **redis_options)
    raise ValueError(f"unsupported rate limit URL scheme {scheme!r}: use memory:// or redis://")
