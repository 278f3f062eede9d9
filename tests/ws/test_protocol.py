"""graphql-transport-ws edge cases against a running server."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from tests.support.live_server import live_server
from tests.ws.support import (
    TRANSPORT_WS,
    WSClient,
    gauge,
    metrics_text,
    wait_for_gauges,
    wait_for_gone,
    wait_until,
)

SUB = "subscription { inventoryChanged { inventory } }"


async def _closed_with(ws) -> int:
    with pytest.raises(websockets.ConnectionClosed) as info:
        for _ in range(5):
            await asyncio.wait_for(ws.recv(), 5)
    return info.value.rcvd.code


async def test_subscribe_before_init_is_4401(ws_url):
    ws = await websockets.connect(ws_url, subprotocols=[TRANSPORT_WS])
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUB}}))
    assert await _closed_with(ws) == 4401


async def test_duplicate_operation_id_is_4409(ws_url):
    client = await WSClient.connect(ws_url)
    await client.subscribe("dup", SUB)
    await client.subscribe("dup", SUB)
    assert await _closed_with(client.ws) == 4409


async def test_unknown_message_type_is_4400(ws_url):
    client = await WSClient.connect(ws_url)
    await client.send({"type": "shout"})
    assert await _closed_with(client.ws) == 4400


async def test_invalid_json_is_4400(ws_url):
    client = await WSClient.connect(ws_url)
    await client.ws.send("{not json")
    assert await _closed_with(client.ws) == 4400


async def test_second_init_is_4429(ws_url):
    client = await WSClient.connect(ws_url)
    await client.send({"type": "connection_init", "payload": {}})
    assert await _closed_with(client.ws) == 4429


async def test_unsupported_subprotocol_is_4406(ws_url):
    ws = await websockets.connect(ws_url, subprotocols=["chat"])
    assert await _closed_with(ws) == 4406


async def test_too_many_subscriptions_get_an_error_and_the_socket_stays(ws_url):
    client = await WSClient.connect(ws_url)
    try:
        for i in range(20):
            await client.subscribe(f"s{i}", SUB)
        await client.subscribe("one-too-many", SUB)
        message = await client.receive()
        assert message["id"] == "one-too-many" and message["type"] == "error"
        await client.send({"id": "q", "type": "subscribe", "payload": {"query": "{ me { id } }"}})
        # Over the cap queries are refused too (the cap counts every in-flight operation).
        assert (await client.receive())["type"] == "error"
        before = await metrics_text(ws_url)
        await client.send({"id": "s0", "type": "complete"})
        await wait_until(
            ws_url,
            lambda text: (
                gauge(text, "shopgraph_ws_active_subscriptions")
                < gauge(before, "shopgraph_ws_active_subscriptions")
            ),
            "completed s0",
        )
        await client.send({"id": "q", "type": "subscribe", "payload": {"query": "{ me { id } }"}})
        assert (await client.receive())["type"] == "next"
    finally:
        await client.close()


async def test_queries_and_mutations_work_over_the_socket(ws_url, live_token):
    client = await WSClient.connect(ws_url, token=live_token("user_ws_mut"))
    try:
        await client.send(
            {
                "id": "m",
                "type": "subscribe",
                "payload": {
                    "query": 'mutation { updateMe(input: {name: "Over WS"}) { user { name } } }'
                },
            }
        )
        message = await client.receive()
        assert message["payload"]["data"]["updateMe"]["user"]["name"] == "Over WS"
        assert (await client.receive()) == {"id": "m", "type": "complete"}
    finally:
        await client.close()


async def test_validation_errors_come_back_as_an_error_message(ws_url):
    client = await WSClient.connect(ws_url)
    try:
        await client.subscribe("bad", "subscription { noSuchField }")
        message = await client.receive()
        assert message["type"] == "error" and message["id"] == "bad"
        assert message["payload"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    finally:
        await client.close()


def test_init_timeout_is_4408(server_env, tmp_path):
    async def scenario(url):
        ws = await websockets.connect(url, subprotocols=[TRANSPORT_WS])
        return await _closed_with(ws)

    env = {**server_env, "DATA_DIR": str(tmp_path), "WS_INIT_TIMEOUT_SECONDS": "0.5"}
    with live_server(env) as base:
        code = asyncio.run(scenario(base.replace("http://", "ws://") + "/graphql"))
    assert code == 4408


def test_token_expiry_closes_the_socket_with_4403(server_env, tmp_path):
    from services.tokens import DevIssuer
    from tests.support.auth import CLIENT_ORIGIN

    async def scenario(url, token):
        client = await WSClient.connect(url, token=token)
        await client.subscribe("s", SUB)
        started = asyncio.get_running_loop().time()
        code = await _closed_with(client.ws)
        return code, asyncio.get_running_loop().time() - started

    env = {**server_env, "DATA_DIR": str(tmp_path), "AUTH_LEEWAY_SECONDS": "0.5"}
    with live_server(env) as base:
        token = DevIssuer(tmp_path / "dev-keys").issue("user_short", ttl=2, azp=CLIENT_ORIGIN)
        code, waited = asyncio.run(scenario(base.replace("http://", "ws://") + "/graphql", token))
    assert code == 4403
    assert waited < 3.0


async def test_clients_vanishing_mid_stream_leave_nothing_behind(ws_url, server):
    before = await metrics_text(ws_url)
    clients = [await WSClient.connect(ws_url) for _ in range(5)]
    for client in clients:
        await client.subscribe("s", SUB)
    # Five subscribers share one stream: one more live subscriber of the bus.
    during = await wait_for_gauges(
        ws_url, above=before, ws_active_subscriptions=5, live_subscribers__inventory=1
    )
    internal = 'shopgraph_live_subscribers{family="inventory"}'  # the app's own followers too
    assert gauge(during, internal) == gauge(before, internal) + 1
    for client in clients:
        client.ws.transport.abort()  # no close frame: the client just disappears
    await wait_for_gone(ws_url, before)
