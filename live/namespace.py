"""Channel namespaces: several deployments (or test runs) sharing one Redis stay apart.

Redis pub/sub channels are global to a server — the database number does not separate
them — so every channel name is prefixed with a namespace on the wire and the prefix is
removed again on the way in.
"""

from __future__ import annotations

from typing import Any

from broadcaster import BroadcastBackend, Event


class NamespacedBackend(BroadcastBackend):
    def __init__(self, inner: BroadcastBackend, namespace: str) -> None:
        self.inner = inner
        self.prefix = f"{namespace}/"

    @property
    def connected(self) -> bool:
        return getattr(self.inner, "connected", True)

    async def connect(self) -> None:
        await self.inner.connect()

    async def disconnect(self) -> None:
        await self.inner.disconnect()

    async def subscribe(self, channel: str) -> None:
        await self.inner.subscribe(self.prefix + channel)

    async def unsubscribe(self, channel: str) -> None:
        await self.inner.unsubscribe(self.prefix + channel)

    async def publish(self, channel: str, message: Any) -> None:
        await self.inner.publish(self.prefix + channel, message)

    async def next_published(self) -> Event:
        while True:
            event = await self.inner.next_published()
            if event.channel.startswith(self.prefix):
                return Event(channel=event.channel[len(self.prefix) :], message=event.message)
