"""The abuse limits over graphql-transport-ws."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from tests.support.live_server import live_server

PROTOCOL = "graphql-transport-ws"


async def _connected(ws_url: str):
    ws = await websockets.connect(ws_url, subprotocols=[PROTOCOL])
    await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    return ws


async def _run(ws, op_id: str, query: str) -> dict:
    await ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": {"query": query}}))
    return json.loads(await ws.recv())


async def test_an_over_limit_operation_gets_an_error_and_the_socket_stays_open(ws_url):
    ws = await _connected(ws_url)
    try:
        aliases = "{ " + " ".join(f"a{i}: __typename" for i in range(31)) + " }"
        refused = await _run(ws, "1", aliases)
        assert refused["type"] == "error"
        assert [e["extensions"]["code"] for e in refused["payload"]] == ["QUERY_TOO_COMPLEX"]
        ok = await _run(ws, "2", "{ __typename }")
        assert ok["type"] == "next"
        assert ok["payload"]["data"] == {"__typename": "Query"}
        assert ok["payload"]["extensions"]["cost"] == {"requested": 0, "limit": 1000}
    finally:
        await ws.close()


async def test_a_document_over_the_token_limit_closes_the_socket_like_a_syntax_error(ws_url):
    # graphql-transport-ws treats an unparsable document as a protocol error (4400); the
    # token limit stops the parser, so it is one. Legitimate documents are far below it.
    ws = await _connected(ws_url)
    await ws.send(
        json.dumps(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": "{ " + "__typename " * 1001 + "}"},
            }
        )
    )
    with pytest.raises(websockets.ConnectionClosed) as info:
        await ws.recv()
    assert info.value.rcvd.code == 4400
    assert "more than 1000 tokens" in info.value.rcvd.reason


async def test_a_message_nested_too_deeply_closes_the_socket_with_4400(ws_url):
    ws = await _connected(ws_url)
    await ws.send(
        '{"id": "1", "type": "subscribe", "payload": ' + "[" * 50_000 + "]" * 50_000 + "}"
    )
    with pytest.raises(websockets.ConnectionClosed) as info:
        await ws.recv()
    assert info.value.rcvd.code == 4400


def _abusive_documents() -> list[str]:
    fan_out = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(60)]
    fan_out.append("fragment F60 on Query { a: __typename }")
    return [
        "{" + "a{" * 5000 + "}" * 5000 + "}",
        "{ " + " ".join(f"p{i}: products(first: 100) {{ totalCount }}" for i in range(300)) + " }",
        "query { ...F0 }\n" + "\n".join(fan_out),
        "{ "
        + " ".join(f"p{i}: products(first: 100) {{ edges {{ cursor }} }}" for i in range(20))
        + " }",
    ]


async def test_the_server_keeps_serving_while_it_refuses_abusive_documents(server):
    import asyncio

    import httpx

    async with httpx.AsyncClient(base_url=server, timeout=30) as client:

        async def abuse() -> list[str]:
            codes = []
            for _ in range(10):
                for document in _abusive_documents():
                    response = await client.post("/graphql", json={"query": document})
                    codes += [e["extensions"]["code"] for e in response.json()["errors"]]
            return codes

        async def normal() -> list[dict]:
            bodies = []
            for _ in range(20):
                response = await client.post(
                    "/graphql", json={"query": "{ facets { totalCount } }"}
                )
                bodies.append(response.json())
            return bodies

        *abusers, served = await asyncio.gather(abuse(), abuse(), abuse(), normal())
    assert {code for codes in abusers for code in codes} == {"QUERY_TOO_COMPLEX"}
    assert all(body["data"] == {"facets": {"totalCount": 0}} for body in served)


@pytest.fixture(scope="module")
def capped_server(server_env, tmp_path_factory):
    env = {
        **server_env,
        "DATA_DIR": str(tmp_path_factory.mktemp("capped")),
        "WS_MAX_ANONYMOUS_CONNECTIONS_PER_IP": "3",
    }
    with live_server(env) as base:
        yield base.replace("http://", "ws://") + "/graphql"


async def test_anonymous_sockets_are_capped_per_ip(capped_server):
    """Regression: anonymous sockets had no cap at all; one client could open thousands."""
    sockets = [await _connected(capped_server) for _ in range(3)]
    try:
        extra = await websockets.connect(capped_server, subprotocols=[PROTOCOL])
        await extra.send(json.dumps({"type": "connection_init", "payload": {}}))
        with pytest.raises(websockets.ConnectionClosed) as info:
            await extra.recv()
        assert info.value.rcvd.code == 4429
        await sockets.pop().close()
        # A freed place is free again (waiting on the server, not on a timer).
        for _ in range(100):
            try:
                sockets.append(await _connected(capped_server))
                break
            except (AssertionError, websockets.ConnectionClosed):
                await asyncio.sleep(0.05)
        assert len(sockets) == 3
    finally:
        for ws in sockets:
            await ws.close()
