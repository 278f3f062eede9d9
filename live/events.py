"""The event object that a process hands to all of its local subscribers of a channel."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class LiveEvent:
    """One event received on a channel, decoded once and shared by every local subscriber.

    `payload` is the published JSON object. The same dict is given to every subscriber, so
    treat it as read-only.

    `shared` is a per-event memo for work that identical subscribers would otherwise repeat,
    such as executing the same GraphQL selection for 5,000 websockets. Use `share()` rather
    than reading and writing it directly: it handles concurrent async computations.
    """

    __slots__ = ("channel", "payload", "shared")

    def __init__(self, channel: str, payload: dict[str, Any]) -> None:
        self.channel = channel
        self.payload = payload
        # key -> Future of the shared result; lives and dies with the event.
        self.shared: dict[Hashable, asyncio.Future[Any]] = {}

    def __repr__(self) -> str:
        return f"LiveEvent(channel={self.channel!r}, payload={self.payload!r})"

    async def share(self, key: Hashable, compute: Callable[[], Awaitable[T]]) -> T:
        """Run `compute()` once per `key` for this event; every caller gets its result.

        The first subscriber to ask computes; the others await its result instead of
        computing again. The key must capture everything the result depends on, e.g.
        `(document_hash, frozen_variables, visibility)` for a GraphQL result; a key that
        leaves out the viewer's permissions leaks data between users.

        If `compute()` raises, every waiting caller gets that same exception. If the
        computing subscriber is cancelled (its client went away), one of the waiting
        subscribers computes instead, so nobody inherits somebody else's cancellation.
        """
        while (pending := self.shared.get(key)) is not None:
            try:
                # shield: our own cancellation must not cancel the result others wait for.
                return await asyncio.shield(pending)
            except _ComputationAbandoned:
                continue

        result: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self.shared[key] = result
        try:
            value = await compute()
        except asyncio.CancelledError:
            del self.shared[key]
            _settle_with_exception(result, _ComputationAbandoned())
            raise
        except Exception as exc:
            _settle_with_exception(result, exc)
            raise
        result.set_result(value)
        return value


class _ComputationAbandoned(Exception):
    """The subscriber computing a shared result was cancelled; a waiting one takes over."""


def _settle_with_exception(future: asyncio.Future[Any], exc: BaseException) -> None:
    future.set_exception(exc)
    # Mark it retrieved: when no other subscriber was waiting, asyncio would otherwise log
    # "Future exception was never retrieved" for an error the computing caller already got.
    future.exception()
