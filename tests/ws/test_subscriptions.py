"""Subscriptions over real websockets against a running server, fed through Redis."""

from __future__ import annotations

import asyncio
import base64
import uuid

import pytest

from live import EventHub
from services import events
from tests.support.live_server import live_server
from tests.ws.support import LEGACY_WS, WSClient

pytestmark = pytest.mark.redis

INVENTORY = (
    "subscription($id: ID) { inventoryChanged(productId: $id) { productId inventory inStock } }"
)


@pytest.fixture(scope="module")
def namespace() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def redis_server(redis_url, server_env, namespace):
    env = {**server_env, "BROADCAST_URL": redis_url, "EVENT_NAMESPACE": namespace}
    with live_server(env) as base:
        yield base.replace("http://", "ws://") + "/graphql"


@pytest.fixture
async def publisher(redis_url, namespace):
    async with EventHub.from_url(redis_url, namespace=namespace) as hub:
        yield hub


def gid(pk: int) -> str:
    return base64.b64encode(f"Product:{pk}".encode()).decode()


async def test_identical_subscribers_all_receive_the_event(redis_server, publisher):
    clients = [await WSClient.connect(redis_server) for _ in range(3)]
    legacy = await WSClient.connect(redis_server, protocol=LEGACY_WS)
    try:
        for client in [*clients, legacy]:
            await client.subscribe("s1", INVENTORY)
        await asyncio.sleep(0.3)
        await publisher.publish(events.INVENTORY, {"productId": 7, "inventory": 3, "inStock": True})
        for client in [*clients, legacy]:
            data = await client.next_data("s1")
            assert data == {
                "inventoryChanged": {"productId": gid(7), "inventory": 3, "inStock": True}
            }
    finally:
        for client in [*clients, legacy]:
            await client.close()


async def test_product_filter(redis_server, publisher):
    client = await WSClient.connect(redis_server)
    try:
        await client.subscribe("only-8", INVENTORY, {"id": gid(8)})
        await asyncio.sleep(0.3)
        await publisher.publish(events.INVENTORY, {"productId": 7, "inventory": 1, "inStock": True})
        await publisher.publish(
            events.INVENTORY, {"productId": 8, "inventory": 0, "inStock": False}
        )
        data = await client.next_data("only-8")
        assert data["inventoryChanged"]["productId"] == gid(8)
        assert data["inventoryChanged"]["inStock"] is False
    finally:
        await client.close()


async def test_complete_stops_delivery_and_the_socket_stays_usable(redis_server, publisher):
    client = await WSClient.connect(redis_server)
    try:
        await client.subscribe("a", INVENTORY)
        await asyncio.sleep(0.3)
        await client.send({"id": "a", "type": "complete"})
        await asyncio.sleep(0.1)
        await client.subscribe("a", INVENTORY)  # the id is free again
        await asyncio.sleep(0.3)
        await publisher.publish(events.INVENTORY, {"productId": 9, "inventory": 2, "inStock": True})
        assert (await client.next_data("a"))["inventoryChanged"]["inventory"] == 2
    finally:
        await client.close()
