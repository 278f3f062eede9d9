"""Subscriptions over real websockets against a running server, fed through Redis."""

from __future__ import annotations

import base64
import uuid

import pytest
import websockets

from live import EventHub
from services import events
from tests.support.live_server import live_server
from tests.ws.support import LEGACY_WS, WSClient, metrics_text, wait_for_gauges, wait_for_gone

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
    try:
        before = await metrics_text(redis_server)
        for client in clients:
            await client.subscribe("s1", INVENTORY)
        # Three subscribers share one stream, whose bus subscription is up.
        await wait_for_gauges(
            redis_server, above=before, ws_active_subscriptions=3, live_subscribers__inventory=1
        )
        await publisher.publish(events.INVENTORY, {"productId": 7, "inventory": 3, "inStock": True})
        for client in clients:
            data = await client.next_data("s1")
            assert data == {
                "inventoryChanged": {"productId": gid(7), "inventory": 3, "inStock": True}
            }
    finally:
        for client in clients:
            await client.close()


async def test_the_legacy_graphql_ws_subprotocol_is_refused(redis_server):
    """Regression: the legacy subprotocol skipped the socket policies (token expiry, init
    timeout, per-user cap, a second init with another user's token)."""
    with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
        await WSClient.connect(redis_server, protocol=LEGACY_WS)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4406


async def test_product_filter(redis_server, publisher):
    client = await WSClient.connect(redis_server)
    try:
        before = await metrics_text(redis_server)
        await client.subscribe("only-8", INVENTORY, {"id": gid(8)})
        await wait_for_gauges(redis_server, above=before, live_subscribers__inventory=1)
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
        before = await metrics_text(redis_server)
        await client.subscribe("a", INVENTORY)
        await wait_for_gauges(redis_server, above=before, live_subscribers__inventory=1)
        await client.send({"id": "a", "type": "complete"})
        await wait_for_gone(redis_server, before)
        await client.subscribe("a", INVENTORY)  # the id is free again
        await wait_for_gauges(redis_server, above=before, live_subscribers__inventory=1)
        await publisher.publish(events.INVENTORY, {"productId": 9, "inventory": 2, "inStock": True})
        assert (await client.next_data("a"))["inventoryChanged"]["inventory"] == 2
    finally:
        await client.close()
