"""Several server processes on Redis: events cross processes, and a Redis outage is survived.

Both tests run real uvicorn processes sharing one database and one Redis, with real
websocket clients and GraphQL mutations as the only way in.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from contextlib import ExitStack

import httpx
import pytest

from services.tokens import DevIssuer
from tests.live.support import RedisServer, free_port
from tests.support.auth import CLIENT_ORIGIN
from tests.support.live_server import live_server
from tests.ws.support import WSClient, gauge, metrics_text, wait_for_gauges, wait_until

pytestmark = pytest.mark.redis

SUBSCRIBE = "subscription($p: ID) { inventoryChanged(productId: $p) { inventory } }"
SET_STOCK = """mutation($p: ID!, $n: Int!) {
  setInventory(productId: $p, inventory: $n) { product { inventory } userErrors { code } } }"""
PRODUCT = base64.b64encode(b"Product:1").decode()
BUS_UP = "shopgraph_live_bus_connections_up"


def _env(server_env, tmp_path, broadcast_url: str) -> dict[str, str]:
    return {
        **server_env,
        "DATA_DIR": str(tmp_path),
        "SEED_ON_START": "true",
        "BROADCAST_URL": broadcast_url,
        "EVENT_NAMESPACE": f"mp-{uuid.uuid4().hex[:8]}",
    }


def _set_stock(base: str, admin: str, inventory: int) -> httpx.Response:
    return httpx.post(
        f"{base}/graphql",
        json={"query": SET_STOCK, "variables": {"p": PRODUCT, "n": inventory}},
        headers={"authorization": f"Bearer {admin}"},
        timeout=10,
    )


def test_an_event_made_on_one_process_reaches_a_subscriber_on_another(
    redis_url, server_env, tmp_path
):
    env = _env(server_env, tmp_path, redis_url)
    with ExitStack() as stack:
        first = stack.enter_context(live_server(env))
        second = stack.enter_context(live_server({**env, "MIGRATE_ON_START": "false"}))
        admin = DevIssuer(tmp_path / "dev-keys").issue("user_demo_admin", admin=True,
                                                       azp=CLIENT_ORIGIN)  # fmt: skip

        async def scenario() -> int:
            client = await WSClient.connect(second.replace("http://", "ws://") + "/graphql")
            try:
                before = await metrics_text(second)
                await client.subscribe("s", SUBSCRIBE, {"p": PRODUCT})
                await wait_for_gauges(second, above=before, live_subscribers__inventory=1)
                response = await asyncio.to_thread(_set_stock, first, admin, 42)
                assert response.json()["data"]["setInventory"]["userErrors"] == []
                data = await client.next_data("s", timeout=5)
                return data["inventoryChanged"]["inventory"]
            finally:
                await client.close()

        assert asyncio.run(scenario()) == 42


def test_a_redis_outage_does_not_lose_writes_and_subscriptions_recover(server_env, tmp_path):
    RedisServer.require()
    redis = RedisServer(free_port())
    redis.start()
    env = _env(server_env, tmp_path, redis.url)
    try:
        with live_server(env) as base:
            admin = DevIssuer(tmp_path / "dev-keys").issue("user_demo_admin", admin=True,
                                                           azp=CLIENT_ORIGIN)  # fmt: skip

            async def scenario() -> None:
                client = await WSClient.connect(base.replace("http://", "ws://") + "/graphql")
                try:
                    before = await metrics_text(base)
                    await client.subscribe("s", SUBSCRIBE, {"p": PRODUCT})
                    await wait_for_gauges(base, above=before, live_subscribers__inventory=1)
                    redis.stop()
                    await wait_until(base, lambda t: gauge(t, BUS_UP) == 0, "saw Redis go")
                    # Redis is down: the mutation still commits and answers.
                    response = await asyncio.to_thread(_set_stock, base, admin, 7)
                    assert response.status_code == 200
                    assert response.json()["data"]["setInventory"]["product"]["inventory"] == 7
                    failures = gauge(await metrics_text(base), "shopgraph_live_publish_failures")
                    assert failures >= 1
                    redis.start()  # same port
                    # The bus reconnects and subscribes again by itself; the next event arrives.
                    await wait_until(base, lambda t: gauge(t, BUS_UP) >= 1, "saw Redis back")
                    response = await asyncio.to_thread(_set_stock, base, admin, 100)
                    assert response.status_code == 200
                    data = await client.next_data("s", timeout=10)
                    assert data["inventoryChanged"]["inventory"] == 100
                finally:
                    await client.close()

            asyncio.run(scenario())
    finally:
        redis.stop()
