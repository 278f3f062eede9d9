"""The process-local fan-out of live events: one bus subscription per channel, many subscribers.

`EventHub` stands where `broadcaster.Broadcast` would and keeps using broadcaster's
`BroadcastBackend` interface for the transport, so `memory://` (broadcaster's own backend,
one process) and `redis://` (our supervised backend, across processes) are interchangeable.
It replaces `Broadcast` itself because what `Broadcast` does above the backend is exactly
what had to change: its subscriber queues are unbounded, every subscriber gets the raw
message to decode, delivery awaits each queue in turn, two simultaneous first subscribers
can lose a queue and a failing backend subscribe ends in `KeyError`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any, Self
from urllib.parse import urlparse

from broadcaster import BroadcastBackend
from broadcaster._backends.memory import MemoryBackend

from core.metrics import (
    LIVE_CHANNELS,
    LIVE_EVENTS_DROPPED,
    LIVE_EVENTS_INVALID,
    LIVE_EVENTS_PUBLISHED,
    LIVE_EVENTS_RECEIVED,
    LIVE_PUBLISH_FAILURES,
    LIVE_SUBSCRIBERS,
    channel_family,
)
from live.codec import decode_payload, encode_payload
from live.errors import PublishError, describe_error
from live.events import LiveEvent
from live.namespace import NamespacedBackend
from live.redis_backend import RedisPubSubBackend
from live.subscription import Subscription

log = logging.getLogger(__name__)

DEFAULT_QUEUE_SIZE = 100


def create_backend(url: str, **redis_options: Any) -> BroadcastBackend:
    """The transport for a bus URL: `memory://`, or `redis://` / `rediss://` (TLS).

    `redis_options` go to `RedisPubSubBackend` (timeouts, reconnect delays).
    """
    scheme = urlparse(url).scheme
    if scheme == "memory":
        return MemoryBackend(url)
    if scheme in ("redis", "rediss"):
        return RedisPubSubBackend(url, **redis_options)
    raise ValueError(
        f"unsupported live event bus URL scheme {scheme!r}: use memory://, redis:// or rediss://"
    )


class _Channel:
    """A channel with local subscribers: the one bus subscription they share."""

    __slots__ = ("dropped_counter", "name", "ready", "received_counter", "subscribers")

    def __init__(self, name: str, ready: asyncio.Task[None]) -> None:
        self.name = name
        self.subscribers: set[Subscription] = set()
        # The bus subscribe for this channel; every subscriber that arrives while it runs
        # waits for the same task instead of racing to subscribe again.
        self.ready = ready
        family = channel_family(name)
        self.dropped_counter = LIVE_EVENTS_DROPPED.labels(family, "slow_subscriber")
        self.received_counter = LIVE_EVENTS_RECEIVED.labels(family)

    def subscribe_failed(self) -> bool:
        return self.ready.done() and (self.ready.cancelled() or self.ready.exception() is not None)


class EventHub:
    """Publish JSON events to channels and subscribe to them, across processes.

    Build one per process with `EventHub.from_url(settings.live_bus_url)`, `connect()` it in
    the application's lifespan and `disconnect()` it on shutdown.

    Delivery is at most once. Events published while the bus (Redis) is unreachable are
    lost, and `publish` says so by returning `False`; subscriptions stay open through an
    outage and receive events again once the bus is back, without resubscribing. A
    subscriber that does not keep up loses its oldest queued events (see `Subscription`).
    """

    def __init__(self, backend: BroadcastBackend, *, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        self._backend = backend
        self._queue_size = queue_size
        self._channels: dict[str, _Channel] = {}
        # channel -> the task releasing its bus subscription, while it runs; a new first
        # subscriber waits for it so that SUBSCRIBE is never overtaken by an UNSUBSCRIBE.
        self._releases: dict[str, asyncio.Task[None]] = {}
        self._listener: asyncio.Task[None] | None = None

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        namespace: str | None = None,
        **redis_options: Any,
    ) -> Self:
        """A hub on the transport named by `url` (see `create_backend`); with `namespace`,
        channels are prefixed on the wire so deployments sharing a Redis stay apart."""
        backend = create_backend(url, **redis_options)
        if namespace:
            backend = NamespacedBackend(backend, namespace)
        return cls(backend, queue_size=queue_size)

    @property
    def backend(self) -> BroadcastBackend:
        """The transport this hub publishes to and receives from."""
        return self._backend

    @property
    def connected(self) -> bool:
        """Whether events can currently flow: for readiness probes (`/readyz`)."""
        return self._listener is not None and getattr(self._backend, "connected", True)

    @property
    def channels(self) -> frozenset[str]:
        """Channels with at least one local subscriber."""
        return frozenset(self._channels)

    def subscriber_count(self, channel: str) -> int:
        """Number of local subscribers of `channel`."""
        entry = self._channels.get(channel)
        return len(entry.subscribers) if entry else 0

    async def connect(self) -> None:
        """Connect the transport and start receiving events."""
        if self._listener is not None:
            raise RuntimeError("the event hub is already connected")
        await self._backend.connect()
        self._listener = asyncio.create_task(self._listen(), name="live-hub-listener")

    async def disconnect(self) -> None:
        """End every local subscription's iteration, then close the transport."""
        listener, self._listener = self._listener, None
        if listener is None:
            return
        for entry in self._channels.values():
            for subscription in entry.subscribers:
                subscription._close()
        listener.cancel()
        # Let in-flight subscribes and releases finish: none of them waits longer than the
        # backend's own timeouts, and cancelling one half-way would leave the bus state unknown.
        pending = [entry.ready for entry in self._channels.values()]
        await asyncio.gather(listener, *pending, *self._releases.values(), return_exceptions=True)
        await self._backend.disconnect()

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.disconnect()

    def subscribe(self, channel: str, *, queue_size: int | None = None) -> Subscription:
        """A subscription to `channel`, to enter with `async with`.

        Entering returns once the bus has confirmed the channel, so an event published
        after that reaches this subscriber. During a bus outage it returns at once instead
        (and subscribes when the bus is back): events of the outage are lost anyway.
        """
        if not channel:
            raise ValueError("a live channel name must not be empty")
        return Subscription(self, channel, self._queue_size if queue_size is None else queue_size)

    async def publish(self, channel: str, payload: Mapping[str, Any]) -> bool:
        """Send `payload` (a JSON-able mapping, see `live.codec`) to every subscriber of `channel`.

        Returns whether the bus accepted the event. When it did not (Redis down or slow),
        the failure is logged and counted and the event is lost: call this after the
        database commit and carry on, the commit stands. Raises `TypeError`/`ValueError`
        only for a payload that cannot be encoded, which is a bug in the caller.
        """
        if self._listener is None:
            raise RuntimeError("the event hub is not connected")
        message = encode_payload(payload)
        family = channel_family(channel)
        try:
            await self._backend.publish(channel, message)
        except PublishError as exc:
            LIVE_PUBLISH_FAILURES.labels(family).inc()
            log.warning("live event on %s lost: %s", channel, describe_error(exc.reason))
            return False
        LIVE_EVENTS_PUBLISHED.labels(family).inc()
        return True

    async def _attach(self, subscription: Subscription) -> None:
        if self._listener is None:
            raise RuntimeError("the event hub is not connected")
        channel = subscription.channel
        # Everything up to the first await is atomic, so concurrent first subscribers find
        # the entry the first of them created and share its bus subscribe.
        entry = self._channels.get(channel)
        if entry is None:
            ready = asyncio.create_task(
                self._subscribe_bus(channel, after=self._releases.get(channel)),
                name=f"live-subscribe:{channel}",
            )
            entry = self._channels[channel] = _Channel(channel, ready)
            LIVE_CHANNELS.labels(channel_family(channel)).inc()
        entry.subscribers.add(subscription)
        subscription._entry = entry
        try:
            # shield: one cancelled subscriber must not cancel the subscribe the others share.
            await asyncio.shield(entry.ready)
        except BaseException:
            subscription._close()
            await self._detach(subscription)
            raise
        # Counted once events can reach it: the gauge tells operators (and tests, instead of
        # sleeping) that a subscriber is live, not merely on its way.
        subscription._live = True
        LIVE_SUBSCRIBERS.labels(channel_family(channel)).inc()

    async def _detach(self, subscription: Subscription) -> None:
        entry = subscription._entry
        if entry is None or subscription not in entry.subscribers:
            return
        entry.subscribers.remove(subscription)
        if subscription._live:
            subscription._live = False
            LIVE_SUBSCRIBERS.labels(channel_family(entry.name)).dec()
        if entry.subscribers:
            return
        self._forget(entry)
        if entry.subscribe_failed() or self._listener is None:
            return  # nothing to release, or the transport is closing anyway
        release = asyncio.create_task(self._release_bus(entry), name=f"live-release:{entry.name}")
        self._releases[entry.name] = release
        # shield: a second cancellation of the leaving subscriber must not abort the release.
        await asyncio.shield(release)

    def _forget(self, entry: _Channel) -> None:
        if self._channels.get(entry.name) is entry:
            del self._channels[entry.name]
            LIVE_CHANNELS.labels(channel_family(entry.name)).dec()

    async def _subscribe_bus(self, channel: str, *, after: asyncio.Task[None] | None) -> None:
        if after is not None:
            await asyncio.wait([after])
        try:
            await self._backend.subscribe(channel)
        except BaseException:
            # Forget the entry at once, so that the next subscriber starts a fresh attempt
            # instead of inheriting this failure; the waiting subscribers all get it.
            entry = self._channels.get(channel)
            if entry is not None and entry.ready is asyncio.current_task():
                self._forget(entry)
            raise

    async def _release_bus(self, entry: _Channel) -> None:
        try:
            await asyncio.wait([entry.ready])  # UNSUBSCRIBE must follow our own SUBSCRIBE
            if not entry.subscribe_failed():
                await self._backend.unsubscribe(entry.name)
        except Exception:
            log.warning("could not release live channel %s", entry.name, exc_info=True)
        finally:
            if self._releases.get(entry.name) is asyncio.current_task():
                del self._releases[entry.name]

    async def _listen(self) -> None:
        backend = self._backend
        while True:
            try:
                message = await backend.next_published()
            except Exception:
                # Our Redis backend never raises here; a third-party backend might. The
                # listener must outlive it, or every channel of the process goes silent.
                log.exception("live event bus failed to deliver; retrying in 1s")
                await asyncio.sleep(1.0)
                continue
            self._dispatch(message.channel, message.message)
            # Yield after every event so that subscribers it woke can take it before the
            # next one is queued: a burst already waiting in the backend would otherwise be
            # fanned out in one go and overflow every queue, fast consumers' included.
            await asyncio.sleep(0)

    def _dispatch(self, channel: str, message: str) -> None:
        entry = self._channels.get(channel)
        if entry is None:
            return  # the last local subscriber has just left
        try:
            payload = decode_payload(message)
        except ValueError:
            LIVE_EVENTS_INVALID.inc()
            log.warning("skipped a live message on %s that is not a JSON object", channel)
            return
        entry.received_counter.inc()
        event = LiveEvent(channel, payload)
        for subscription in entry.subscribers:
            subscription._deliver(event)
