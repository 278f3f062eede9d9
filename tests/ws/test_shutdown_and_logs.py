"""A real uvicorn process: websockets closed with 1001 on SIGTERM, JSON logs with request ids,
websocket connections in /metrics."""

from __future__ import annotations

import asyncio
import json
import signal

import httpx
import pytest
import websockets

from tests.support.auth import CLIENT_ORIGIN
from tests.support.live_server import live_process, log_path

PROTOCOL = "graphql-transport-ws"
pytestmark = pytest.mark.slow


def _env(data_dir) -> dict[str, str]:
    return {
        "DATA_DIR": str(data_dir),
        "CLERK_AUTHORIZED_PARTIES": CLIENT_ORIGIN,
        "MIGRATE_ON_START": "true",
        "LOG_FORMAT": "json",
    }


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    return _env(tmp_path)


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One server at log level info for the tests that do not stop it."""
    env = _env(tmp_path_factory.mktemp("live-logs"))
    with live_process(env, args=["--log-level", "info"]) as (base, _process):
        yield base, env


async def _connected(ws_url: str):
    ws = await websockets.connect(ws_url, subprotocols=[PROTOCOL])
    await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    return ws


def _gauge(base: str, name: str) -> float:
    for line in httpx.get(f"{base}/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


async def test_sigterm_closes_websockets_with_1001_then_exits_cleanly(env):
    args = ["--timeout-graceful-shutdown", "5", "--log-level", "info"]
    with live_process(env, args=args) as (base, process):
        ws_url = base.replace("http://", "ws://") + "/graphql"
        first, second = await _connected(ws_url), await _connected(ws_url)
        assert _gauge(base, "shopgraph_websocket_connections") == 2
        process.send_signal(signal.SIGTERM)
        for ws in (first, second):
            with pytest.raises(websockets.ConnectionClosed) as info:
                await asyncio.wait_for(ws.recv(), 5)
            assert info.value.rcvd.code == 1001
            assert info.value.rcvd.reason == "server shutting down"
        # Uvicorn re-raises the signal once it has shut down gracefully.
        assert await asyncio.to_thread(process.wait, 10) == -signal.SIGTERM
    messages = [
        json.loads(line)["message"] for line in log_path(env, base).read_text().splitlines()
    ]
    closing = messages.index("closing 2 websocket(s) with 1001")
    assert messages.index("Shutting down") > closing
    assert messages.index("Application shutdown complete.") > closing
    assert not any("Traceback" in m or "exception" in m.lower() for m in messages)


async def test_websocket_gauge_goes_down_when_clients_leave(shared):
    base, _env = shared
    ws = await _connected(base.replace("http://", "ws://") + "/graphql")
    assert _gauge(base, "shopgraph_websocket_connections") == 1
    await ws.close()
    for _ in range(50):
        if _gauge(base, "shopgraph_websocket_connections") == 0:
            break
        await asyncio.sleep(0.05)
    assert _gauge(base, "shopgraph_websocket_connections") == 0


def test_json_logs_carry_the_request_id_on_every_line_of_a_request(shared):
    base, env = shared
    response = httpx.post(
        f"{base}/graphql", json={"query": "{ __typename }"}, headers={"x-request-id": "live-req-1"}
    )
    assert response.headers["x-request-id"] == "live-req-1"
    lines = [json.loads(line) for line in log_path(env, base).read_text().splitlines() if line]
    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    graphql = [line for line in access if line.get("path") == "/graphql"]
    assert graphql, access
    assert graphql[-1]["request_id"] == "live-req-1"
    assert (graphql[-1]["method"], graphql[-1]["status"]) == ("POST", 200)
    # Outside requests (start-up) the id is "-"; every line is JSON with a level.
    [startup] = [line for line in lines if line["message"] == "Application startup complete."]
    assert startup["request_id"] == "-"
    assert all(line["level"] in ("DEBUG", "INFO", "WARNING", "ERROR") for line in lines)
