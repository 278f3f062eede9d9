"""One local subscriber's bounded stream of events on one channel."""

from __future__ import annotations

import asyncio
from collections import deque
from types import TracebackType
from typing import TYPE_CHECKING

from live.events import LiveEvent

if TYPE_CHECKING:
    from live.hub import EventHub, _Channel


class Subscription:
    """A subscriber to one channel: an async context manager and an async iterator.

    Get one from `EventHub.subscribe(channel)`::

        async with hub.subscribe("order:42") as subscription:
            async for event in subscription:
                ...

    Entering returns once the channel is subscribed on the bus (see `EventHub.subscribe`).
    Leaving — normally, by an exception, by cancellation or by `aclose()` of the async
    generator around it — detaches the subscriber and, if it was the last one of the channel
    in this process, releases the bus subscription before returning.

    Events wait in a queue of at most `queue_size` events. When a new event arrives at a
    full queue the OLDEST queued event is dropped: a subscriber that falls behind skips
    ahead to recent events rather than stalling the others or growing memory. `dropped`
    counts the events this subscriber lost that way; compare it between events to notice a
    gap (e.g. to tell the client to refetch).

    The iteration ends when the hub disconnects (at application shutdown).
    """

    # No __dict__ and no asyncio.Queue: 5,000 idle subscribers should cost little memory and
    # delivery should be a deque append plus, if the consumer is waiting, one future wake-up.
    __slots__ = ("_closed", "_entry", "_events", "_hub", "_live", "_waiter", "channel", "dropped")

    def __init__(self, hub: EventHub, channel: str, queue_size: int) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        self.channel = channel
        self.dropped = 0
        self._hub = hub
        self._entry: _Channel | None = None
        # Counted in `shopgraph_live_subscribers` (its bus subscription is up).
        self._live = False
        self._events: deque[LiveEvent] = deque(maxlen=queue_size)
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False

    def __repr__(self) -> str:
        return f"<Subscription {self.channel!r} pending={len(self._events)} dropped={self.dropped}>"

    @property
    def pending(self) -> int:
        """Number of events received and not yet consumed."""
        return len(self._events)

    async def __aenter__(self) -> Subscription:
        await self._hub._attach(self)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._close()
        await self._hub._detach(self)

    def __aiter__(self) -> Subscription:
        if self._entry is None:
            # `async for event in hub.subscribe(...)` would wait forever: never attached.
            raise RuntimeError("enter the subscription with `async with` before iterating it")
        return self

    async def __anext__(self) -> LiveEvent:
        events = self._events
        while not events:
            if self._closed:
                raise StopAsyncIteration
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                self._waiter = None
        return events.popleft()

    def _deliver(self, event: LiveEvent) -> None:
        """Queue an event (called by the hub, synchronously, once per event)."""
        events = self._events
        if len(events) == events.maxlen:
            # deque(maxlen=...) discards the leftmost (oldest) item on append.
            self.dropped += 1
            self._entry.dropped_counter.inc()  # type: ignore[union-attr]
        events.append(event)
        self._wake()

    def _close(self) -> None:
        """End the iteration once the queued events are consumed."""
        self._closed = True
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
