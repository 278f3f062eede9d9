"""Cross-origin browser clients: CORS for HTTP, the Origin check for websockets."""

from __future__ import annotations

import asyncio

import pytest

from app import create_app
from tests.web.conftest import app_client

VITE = "http://127.0.0.1:5173"
EVIL = "https://evil.example"


def preflight(origin: str) -> dict[str, str]:
    return {
        "origin": origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
    }


async def test_dev_allows_the_reference_client_origins_by_default(make_settings):
    async with app_client(make_settings(env="dev")) as client:
        allowed = await client.options("/graphql", headers=preflight(VITE))
        refused = await client.options("/graphql", headers=preflight(EVIL))
        response = await client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"origin": VITE}
        )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == VITE
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in allowed.headers  # bearer tokens only
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    assert response.headers["access-control-allow-origin"] == VITE
    assert "x-request-id" in response.headers["access-control-expose-headers"].lower()


async def test_prod_allows_no_other_origin_unless_configured(make_settings, clerk_public_pem):
    prod = make_settings(env="prod", clerk_jwt_key=clerk_public_pem)
    async with app_client(prod) as client:
        response = await client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"origin": VITE}
        )
        preflight_response = await client.options("/graphql", headers=preflight(VITE))
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-origin" not in preflight_response.headers

    shop = "https://shop.example"
    configured = make_settings(
        env="prod", clerk_jwt_key=clerk_public_pem, cors_allowed_origins=[shop]
    )
    async with app_client(configured) as client:
        ok = await client.options("/graphql", headers=preflight(shop))
        vite = await client.options("/graphql", headers=preflight(VITE))
    assert ok.headers["access-control-allow-origin"] == shop
    assert vite.status_code == 400


def test_settings_parse_and_default_the_origin_lists(make_settings, monkeypatch):
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", "https://a.example, https://b.example,")
    monkeypatch.setenv("WS_ALLOWED_ORIGINS", "https://ws.example,https://a.example")
    settings = make_settings()
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.websocket_origins == [
        "https://ws.example",
        "https://a.example",
        "https://b.example",
    ]
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", "")
    assert make_settings(env="dev").cors_origins == []  # explicitly none, even in dev
    monkeypatch.delenv("CORS_ALLOWED_ORIGINS")
    assert VITE in make_settings(env="dev").cors_origins
    assert make_settings(env="test").cors_origins == []


async def websocket_handshake(app, origin: str) -> dict:
    """The app's first answer to a browser's websocket handshake from `origin`."""
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "ws",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "root_path": "",
        "query_string": b"",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "headers": [(b"host", b"127.0.0.1:8000"), (b"origin", origin.encode())],
        "subprotocols": ["graphql-transport-ws"],
        "extensions": {"websocket.http.response": {}},
    }
    incoming: asyncio.Queue = asyncio.Queue()
    await incoming.put({"type": "websocket.connect"})
    sent: asyncio.Queue = asyncio.Queue()
    task = asyncio.create_task(app(scope, incoming.get, sent.put))
    try:
        return await asyncio.wait_for(sent.get(), 5)
    finally:
        await incoming.put({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait_for(task, 5)


@pytest.mark.parametrize(("origin", "accepted"), [(VITE, True), (EVIL, False)])
async def test_websockets_accept_the_cors_origins(make_settings, origin, accepted):
    # No lifespan: the handshake needs no database.
    answer = await websocket_handshake(create_app(make_settings(env="dev")), origin)
    if accepted:
        assert answer == {
            "type": "websocket.accept",
            "subprotocol": "graphql-transport-ws",
            "headers": [],
        }
    else:
        assert answer["type"] == "websocket.close", answer  # refused before accepting
