"""The live event bus under GraphQL subscriptions.

`EventHub` publishes JSON events to channels and fans them out to local subscribers; the
transport is `memory://` (one process) or Redis pub/sub (`redis://`, `rediss://`) through
`RedisPubSubBackend`, which survives Redis outages. Channels are named `<family>:<key>`,
e.g. `order:42`; metrics are labelled by family only.
"""

from live.codec import decode_payload, encode_payload
from live.errors import PublishError
from live.events import LiveEvent
from live.hub import EventHub, create_backend
from live.redis_backend import RedisPubSubBackend
from live.subscription import Subscription

__all__ = [
    "EventHub",
    "LiveEvent",
    "PublishError",
    "RedisPubSubBackend",
    "Subscription",
    "create_backend",
    "decode_payload",
    "encode_payload",
]
