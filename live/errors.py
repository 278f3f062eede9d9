"""Errors raised by the live event bus."""

from __future__ import annotations


class PublishError(Exception):
    """An event could not be handed to the event bus, so nobody will receive it.

    Raised by the Redis backend when Redis is unreachable or does not answer within the
    publish timeout. Pub/sub is at-most-once: the event is lost, it is not retried later.
    `EventHub.publish` turns this into a logged warning and a `False` return value.
    """

    def __init__(self, channel: str, reason: BaseException) -> None:
        super().__init__(f"could not publish to live channel {channel!r}: {describe_error(reason)}")
        self.channel = channel
        self.reason = reason


def describe_error(exc: BaseException) -> str:
    """`Type: message` for logs; redis-py's own repr() hides the message."""
    message = str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
