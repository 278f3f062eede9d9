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
from tests.support.services import services_required
from tests.ws.support import WSClient

pytestmark = pytest.mark.redis

SUBSCRIBE = "subscription($p: ID) { inventoryChanged(productId: $p) { inventory } }"
SET_STOCK = """mutation($p: ID!, $n: Int!) {
  setInventory(productId: $p, inventory: $n) { product { inventory } userErrors { code } } }"""
PRODUCT = base64.b64encode(b"Product:1").decode()


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
                await client.subscribe("s", SUBSCRIBE, {"p": PRODUCT})
                await asyncio.sleep(0.5)
                response = await asyncio.to_thread(_set_stock, first, admin, 42)
                assert response.json()["data"]["setInventory"]["userErrors"] == []
                data = await client.next_data("s", timeout=5)
                return data["inventoryChanged"]["inventory"]
            finally:
                await client.close()

        assert asyncio.run(scenario()) == 42


def test_a_redis_outage_does_not_lose_writes_and_subscriptions_recover(server_env, tmp_path):
    if not RedisServer.available():
        if services_required():
            pytest.fail("redis-server is not on PATH and REQUIRE_SERVICES=1", pytrace=False)
        pytest.skip("redis-server is not on PATH")
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
                    await client.subscribe("s", SUBSCRIBE, {"p": PRODUCT})
                    await asyncio.sleep(0.5)
                    redis.stop()
                    # Redis is down: the mutation still commits and answers.
                    response = await asyncio.to_thread(_set_stock, base, admin, 7)
                    assert response.status_code == 200
                    assert response.json()["data"]["setInventory"]["product"]["inventory"] == 7
                    metrics = (await asyncio.to_thread(httpx.get, f"{base}/metrics")).text
                    assert _metric(metrics, "shopgraph_live_publish_failures_total") >= 1
                    redis.start()  # same port
                    # The subscription comes back by itself; the next event arrives.
                    for attempt in range(40):
                        await asyncio.sleep(0.25)
                        response = await asyncio.to_thread(_set_stock, base, admin, 100 + attempt)
                        assert response.status_code == 200
                        try:
                            data = await client.next_data("s", timeout=0.5)
                        except TimeoutError:
                            continue
                        assert data["inventoryChanged"]["inventory"] >= 100
                        return
                    raise AssertionError("the subscription never recovered after Redis came back")
                finally:
                    await client.close()

            asyncio.run(scenario())
    finally:
        redis.stop()


def _metric(text: str, name: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name) and not line.startswith("#")
    )
