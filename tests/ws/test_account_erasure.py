"""An erased account's open websockets stop working: closed by the erasure event, and refused
by the per-operation account check when that event never arrived.

Regression (issue 12): after a verified `user.deleted` webhook, an open socket still ran
`updateMe` (writing a name and preferences back into the erased row), could start a chat
session and kept streaming `orderStatusChanged`.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import httpx
import pytest
import websockets

from services.tokens import DevIssuer
from tests.support.auth import CLIENT_ORIGIN, WEBHOOK_SECRET, signed
from tests.support.live_server import live_server

PROTOCOL = "graphql-transport-ws"
UPDATE_ME = 'mutation { updateMe(input: {name: "Back"}) { user { name } } }'
ORDERS = "subscription { orderStatusChanged { order { id } } }"


@pytest.fixture(scope="module")
def erasing_server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("erasure")
    env = {
        "DATA_DIR": str(data_dir),
        "CLERK_AUTHORIZED_PARTIES": CLIENT_ORIGIN,
        "CLERK_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "MIGRATE_ON_START": "true",
    }
    with live_server(env) as base:
        yield base, data_dir


async def _signed_in(base: str, token: str):
    ws = await websockets.connect(
        base.replace("http://", "ws://") + "/graphql", subprotocols=[PROTOCOL]
    )
    await ws.send(
        json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
    )
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    return ws


async def _run(ws, op_id: str, query: str) -> dict:
    await ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": {"query": query}}))
    return json.loads(await ws.recv())


async def _closed_code(ws) -> tuple[int, str]:
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(ws.recv(), 10)
    return closed.value.rcvd.code, closed.value.rcvd.reason


def _token(data_dir: Path, subject: str) -> str:
    return DevIssuer(data_dir / "dev-keys").issue(subject, azp=CLIENT_ORIGIN, name="Erin")


async def test_erasure_closes_the_accounts_open_sockets(erasing_server):
    base, data_dir = erasing_server
    token = _token(data_dir, "user_erased_live")
    streaming = await _signed_in(base, token)
    idle = await _signed_in(base, token)
    assert (await _run(idle, "me", UPDATE_ME))["type"] == "next"
    await streaming.send(
        json.dumps({"id": "orders", "type": "subscribe", "payload": {"query": ORDERS}})
    )
    body, headers = signed({"type": "user.deleted", "data": {"id": "user_erased_live"}})
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{base}/webhooks/clerk", content=body, headers=headers)
    assert response.status_code == 200, response.text

    assert await _closed_code(streaming) == (4403, "Account deleted")
    assert await _closed_code(idle) == (4403, "Account deleted")
    with sqlite3.connect(data_dir / "shopgraph.sqlite3") as db:
        name, deleted = db.execute(
            "SELECT name, deleted_at FROM users WHERE clerk_id = 'user_erased_live'"
        ).fetchone()
    assert (name, deleted is not None) == ("", True)


async def test_every_operation_rechecks_the_account(erasing_server):
    """The erasure happened elsewhere and its event was lost: the next operation on an open
    socket finds the account gone and closes the socket without running."""
    base, data_dir = erasing_server
    ws = await _signed_in(base, _token(data_dir, "user_erased_elsewhere"))
    assert (await _run(ws, "1", "{ me { name } }"))["payload"]["data"]["me"]["name"] == "Erin"
    with sqlite3.connect(data_dir / "shopgraph.sqlite3") as db:
        db.execute(
            "UPDATE users SET name = '', deleted_at = CURRENT_TIMESTAMP"
            " WHERE clerk_id = 'user_erased_elsewhere'"
        )
    await ws.send(json.dumps({"id": "2", "type": "subscribe", "payload": {"query": UPDATE_ME}}))
    assert await _closed_code(ws) == (4403, "Account deleted")
    with sqlite3.connect(data_dir / "shopgraph.sqlite3") as db:
        (name,) = db.execute(
            "SELECT name FROM users WHERE clerk_id = 'user_erased_elsewhere'"
        ).fetchone()
    assert name == ""
