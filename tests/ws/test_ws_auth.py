"""Websocket authentication: token in `connection_init`, bad tokens closed with 4403."""

from __future__ import annotations

import json

import pytest
import websockets

PROTOCOL = "graphql-transport-ws"


async def _init(ws_url: str, payload: dict | None, **kwargs):
    ws = await websockets.connect(ws_url, subprotocols=[PROTOCOL], **kwargs)
    await ws.send(json.dumps({"type": "connection_init", "payload": payload or {}}))
    return ws


async def _query_me(ws) -> dict:
    await ws.send(
        json.dumps({"id": "1", "type": "subscribe", "payload": {"query": "{ me { name } }"}})
    )
    return json.loads(await ws.recv())


async def test_connection_init_token_authenticates(ws_url, live_token):
    ws = await _init(ws_url, {"authorization": f"Bearer {live_token('user_ws', name='WS User')}"})
    try:
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        message = await _query_me(ws)
        assert message["type"] == "next"
        assert message["payload"]["data"]["me"]["name"] == "WS User"
    finally:
        await ws.close()


async def test_anonymous_connections_are_allowed(ws_url):
    ws = await _init(ws_url, {})
    try:
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        assert (await _query_me(ws))["payload"]["data"]["me"] is None
    finally:
        await ws.close()


@pytest.mark.parametrize("value", ["Bearer garbage", "Basic abc", "not.a.jwt", 42])
async def test_bad_tokens_close_with_4403(ws_url, value):
    ws = await _init(ws_url, {"authorization": value})
    with pytest.raises(websockets.ConnectionClosed) as info:
        await ws.recv()
    assert info.value.rcvd.code == 4403


async def test_a_bad_session_cookie_with_no_payload_token_closes_with_4403(ws_url):
    ws = await _init(ws_url, {}, additional_headers={"cookie": "__session=garbage"})
    # A stale cookie alone is only a signed-out visitor on HTTP, but a websocket that
    # presented credentials we cannot accept is refused.
    with pytest.raises(websockets.ConnectionClosed) as info:
        await ws.recv()
    assert info.value.rcvd.code == 4403
