"""A Redis pub/sub transport for broadcaster that survives Redis outages.

broadcaster 0.3.1's own Redis backend loses the first subscription with redis-py 8 and dies
for good on the first connection error (encode/broadcaster#144). This one keeps
broadcaster's `BroadcastBackend` interface and owns its subscriber connection:

- one supervisor task holds a dedicated Redis connection, reads everything that arrives on
  it and, when the connection breaks or goes silent, reconnects with capped exponential
  backoff and jitter and re-subscribes every channel still wanted, until `disconnect()`;
- `subscribe()` returns once Redis has confirmed the channel, so nothing published after
  it returns is missed; during an outage it only records the channel, which the supervisor
  subscribes on reconnection;
- `next_published()` never raises because of Redis: during an outage it simply waits;
- `publish()` uses a separate connection pool and fails within `publish_timeout` with
  `PublishError` when Redis is down or hung.

Events published while the subscriber connection is down are lost: Redis pub/sub is
at-most-once and keeps nothing for absent subscribers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from typing import Any

from broadcaster import BroadcastBackend, Event
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection, Connection, parse_url
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from core.metrics import (
    LIVE_BUS_CONNECTIONS_UP,
    LIVE_BUS_RECONNECTS,
    LIVE_EVENTS_DROPPED,
    channel_family,
)
from live.errors import PublishError, describe_error

log = logging.getLogger(__name__)

# What a broken or unreachable Redis raises (builtin TimeoutError is an OSError).
_CONNECTION_ERRORS = (RedisError, OSError)


class RedisPubSubBackend(BroadcastBackend):
    """broadcaster backend on Redis pub/sub with a supervised, self-healing subscriber.

    Channels are a set: subscribing twice to one channel and unsubscribing once leaves it
    unsubscribed. Reference counting of local subscribers is `EventHub`'s job.
    """

    def __init__(
        self,
        url: str,
        *,
        publish_timeout: float = 1.0,
        connect_timeout: float = 2.0,
        ping_interval: float = 5.0,
        reconnect_min_delay: float = 0.1,
        reconnect_max_delay: float = 5.0,
        startup_wait: float = 2.0,
        backlog_size: int = 10_000,
    ) -> None:
        """Configure the backend; nothing connects before `connect()`.

        - `publish_timeout`: longest a `publish()` may take before `PublishError`.
        - `connect_timeout`: bound for connecting, authenticating and for Redis to confirm a
          SUBSCRIBE; also the socket write timeout.
        - `ping_interval`: after this long without traffic the subscriber connection is
          PINGed; with no reply within another interval it is declared dead.
        - `reconnect_min_delay` / `reconnect_max_delay`: the backoff between attempts
          doubles from the first to the second, each delay drawn at random from its upper
          half so that many processes do not reconnect in lockstep.
        - `startup_wait`: how long `connect()` waits for the first connection before
          returning anyway (the supervisor keeps trying; `connected` tells).
        - `backlog_size`: received events waiting for the hub; beyond it the oldest is dropped.
        """
        # BroadcastBackend.__init__ only raises NotImplementedError: deliberately not called.
        self._url = url
        self._publish_timeout = publish_timeout
        self._connect_timeout = connect_timeout
        self._ping_interval = ping_interval
        self._reconnect_min_delay = reconnect_min_delay
        self._reconnect_max_delay = reconnect_max_delay
        self._startup_wait = startup_wait

        options: dict[str, Any] = dict(parse_url(url))
        self._connection_class: type[AbstractConnection] = options.pop(
            "connection_class", Connection
        )
        self._location = options.get("path") or (
            f"{options.get('host', 'localhost')}:{options.get('port', 6379)}"
        )
        self._connection_options = {
            "socket_connect_timeout": connect_timeout,
            "socket_timeout": connect_timeout,
            "client_name": "shopgraph-live",
            **options,
            # The reader below parses RESP2 pub/sub frames as bytes, whatever the URL says.
            "protocol": 2,
            "decode_responses": False,
            # Reconnecting is the supervisor's job, not a hidden retry inside redis-py.
            "retry": Retry(NoBackoff(), 0),
        }

        self._wanted: set[str] = set()
        # channel -> futures resolved by Redis' SUBSCRIBE confirmations, in sending order.
        self._confirmations: dict[str, deque[asyncio.Future[bool]]] = {}
        self._conn: AbstractConnection | None = None
        # Commands are written from several tasks (subscribers, the supervisor's PINGs);
        # the lock keeps each command whole and in order. Only the supervisor reads.
        self._write_lock = asyncio.Lock()
        self._backlog: asyncio.Queue[Event] = asyncio.Queue(maxsize=backlog_size)
        self._up = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self._publisher: Redis | None = None

    @property
    def connected(self) -> bool:
        """Whether the subscriber connection is up and every wanted channel is subscribed."""
        return self._up.is_set()

    @property
    def channels(self) -> frozenset[str]:
        """Channels currently wanted (subscribed, or to be subscribed on reconnection)."""
        return frozenset(self._wanted)

    async def connect(self) -> None:
        """Start the supervisor; wait up to `startup_wait` for the first connection."""
        if self._supervisor is not None:
            raise RuntimeError("the Redis backend is already connected")
        self._publisher = Redis.from_url(
            self._url,
            socket_connect_timeout=self._publish_timeout,
            socket_timeout=self._publish_timeout,
            # One immediate retry covers a pooled connection that Redis closed while idle.
            retry=Retry(NoBackoff(), 1),
        )
        self._supervisor = asyncio.create_task(self._supervise(), name="live-redis-supervisor")
        try:
            async with asyncio.timeout(self._startup_wait):
                await self._up.wait()
        except TimeoutError:
            pass  # the supervisor has logged why; it keeps trying in the background

    async def disconnect(self) -> None:
        """Stop the supervisor and close both connections."""
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None:
            supervisor.cancel()
            await asyncio.gather(supervisor, return_exceptions=True)
        publisher, self._publisher = self._publisher, None
        if publisher is not None:
            await publisher.aclose()

    async def subscribe(self, channel: str) -> None:
        """Subscribe to `channel`; returns once Redis confirms it, or at once when Redis is down."""
        async with self._write_lock:
            self._wanted.add(channel)
            conn = self._conn
            if conn is None or not conn.is_connected:
                return  # the supervisor subscribes every wanted channel when it reconnects
            confirmed = self._expect_confirmation(channel)
            try:
                await conn.send_command("SUBSCRIBE", channel, check_health=False)
            except _CONNECTION_ERRORS:
                return  # the connection broke: the supervisor notices and re-subscribes
        try:
            async with asyncio.timeout(self._connect_timeout):
                await confirmed
        except TimeoutError:
            log.warning(
                "Redis at %s did not confirm the subscription to %s within %.1fs",
                self._location,
                channel,
                self._connect_timeout,
            )

    async def unsubscribe(self, channel: str) -> None:
        """Stop receiving `channel`; messages still in flight for it are discarded."""
        async with self._write_lock:
            self._wanted.discard(channel)
            conn = self._conn
            if conn is None or not conn.is_connected:
                return  # a new connection only subscribes wanted channels
            # A failed write needs no undo either: the next connection will not subscribe it.
            with contextlib.suppress(*_CONNECTION_ERRORS):
                await conn.send_command("UNSUBSCRIBE", channel, check_health=False)

    async def publish(self, channel: str, message: Any) -> None:
        """PUBLISH `message`; raises `PublishError` within `publish_timeout` if Redis fails."""
        if self._publisher is None:
            raise RuntimeError("the Redis backend is not connected")
        try:
            async with asyncio.timeout(self._publish_timeout):
                await self._publisher.publish(channel, message)
        except _CONNECTION_ERRORS as exc:
            raise PublishError(channel, exc) from exc

    async def next_published(self) -> Event:
        """The next event on a wanted channel; waits (without raising) through outages."""
        return await self._backlog.get()

    # --- the supervisor -----------------------------------------------------------------

    async def _supervise(self) -> None:
        failures = 0  # consecutive failed attempts, for the backoff
        lost_at: float | None = None  # loop time the connection went down, once it was up
        loop = asyncio.get_running_loop()
        while True:
            conn = self._connection_class(**self._connection_options)
            was_up = False
            try:
                async with asyncio.timeout(self._connect_timeout):
                    await conn.connect()
                resubscribed = await self._start_session(conn)
                self._mark_up(resubscribed, lost_at, loop.time())
                failures, lost_at = 0, None
                await self._read_until_broken(conn)
            except _CONNECTION_ERRORS as exc:
                was_up = self._mark_down(conn)
                self._log_failure(exc, was_up=was_up, first_failure=failures == 0)
            except Exception:
                was_up = self._mark_down(conn)
                log.exception("unexpected error in the live event bus subscriber; reconnecting")
            finally:
                # Also on cancellation: disconnect() must not leave the socket open.
                self._mark_down(conn)
                with contextlib.suppress(*_CONNECTION_ERRORS):
                    await conn.disconnect(nowait=True)
            if was_up:
                lost_at = loop.time()
            failures += 1
            await asyncio.sleep(self._backoff(failures))

    async def _start_session(self, conn: AbstractConnection) -> int:
        """Subscribe every wanted channel on a fresh connection and wait for Redis to confirm."""
        async with self._write_lock:
            channels = list(self._wanted)
            last_confirmed = None
            for channel in channels:
                last_confirmed = self._expect_confirmation(channel)
            if channels:
                await conn.send_command("SUBSCRIBE", *channels, check_health=False)
            # From here on subscribe()/unsubscribe() write to this connection themselves.
            self._conn = conn
        # Redis confirms channels in the order sent: the last confirmation implies the rest.
        deadline = asyncio.get_running_loop().time() + self._connect_timeout
        while last_confirmed is not None and not last_confirmed.done():
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError("Redis did not confirm the re-subscription in time")
            frame = await conn.read_response(timeout=remaining, disconnect_on_error=False)
            if frame is not None:
                self._handle(frame)
        return len(channels)

    async def _read_until_broken(self, conn: AbstractConnection) -> None:
        """Read messages until the connection fails; a silent connection is PINGed, then dropped."""
        awaiting_pong = False
        while True:
            frame = await conn.read_response(timeout=self._ping_interval, disconnect_on_error=False)
            if frame is not None:
                awaiting_pong = False
                self._handle(frame)
                continue
            if awaiting_pong:
                # A peer that vanished without closing the socket (network partition,
                # paused server) is only noticed this way.
                raise TimeoutError(f"no reply to PING within {self._ping_interval}s")
            async with self._write_lock:
                await conn.send_command("PING", check_health=False)
            awaiting_pong = True

    def _handle(self, frame: Any) -> None:
        """Route one frame: messages to the backlog, SUBSCRIBE confirmations to waiters."""
        if not isinstance(frame, list) or len(frame) < 3:
            return  # PONG (b"PONG" or [b"pong", b""])
        kind, channel_bytes, data = frame[0], frame[1], frame[2]
        channel = channel_bytes.decode("utf-8", "replace")
        if kind == b"message":
            if channel in self._wanted:  # not an unsubscribed channel's message in flight
                self._enqueue(Event(channel, data.decode("utf-8", "replace")))
        elif kind == b"subscribe":
            waiting = self._confirmations.get(channel)
            if waiting:
                confirmed = waiting.popleft()
                if not waiting:
                    del self._confirmations[channel]
                if not confirmed.done():
                    confirmed.set_result(True)

    def _enqueue(self, event: Event) -> None:
        backlog = self._backlog
        if backlog.full():
            oldest = backlog.get_nowait()
            LIVE_EVENTS_DROPPED.labels(channel_family(oldest.channel), "backlog").inc()
        backlog.put_nowait(event)

    def _expect_confirmation(self, channel: str) -> asyncio.Future[bool]:
        confirmed: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._confirmations.setdefault(channel, deque()).append(confirmed)
        return confirmed

    def _mark_up(self, channels: int, lost_at: float | None, now: float) -> None:
        self._up.set()
        LIVE_BUS_CONNECTIONS_UP.inc()
        if lost_at is None:
            log.info("live event bus connected to Redis at %s", self._location)
        else:
            LIVE_BUS_RECONNECTS.inc()
            log.info(
                "live event bus reconnected to Redis at %s after %.2fs; %d channels re-subscribed",
                self._location,
                now - lost_at,
                channels,
            )

    def _mark_down(self, conn: AbstractConnection) -> bool:
        """Forget `conn`; returns whether the bus was up until now. Safe to call twice."""
        if self._conn is conn:
            self._conn = None
        # Subscribers waiting for a confirmation that will never come return now; their
        # channels stay wanted and are subscribed by the next connection.
        for waiting in self._confirmations.values():
            for confirmed in waiting:
                if not confirmed.done():
                    confirmed.set_result(False)
        self._confirmations.clear()
        was_up = self._up.is_set()
        if was_up:
            self._up.clear()
            LIVE_BUS_CONNECTIONS_UP.dec()
        return was_up

    def _log_failure(self, exc: BaseException, *, was_up: bool, first_failure: bool) -> None:
        # One line per change of state; the retries of an outage go to debug.
        if was_up:
            log.warning(
                "live event bus lost Redis at %s (%s); events are lost until it is back, "
                "reconnecting",
                self._location,
                describe_error(exc),
            )
        elif first_failure:
            log.warning(
                "live event bus cannot reach Redis at %s (%s); retrying in the background",
                self._location,
                describe_error(exc),
            )
        else:
            log.debug(
                "live event bus: Redis at %s still unreachable (%s)",
                self._location,
                describe_error(exc),
            )

    def _backoff(self, failures: int) -> float:
        ceiling = min(
            self._reconnect_max_delay,
            self._reconnect_min_delay * 2 ** min(failures - 1, 30),
        )
        return random.uniform(ceiling / 2, ceiling)
