"""Dev-only token minting: POST /dev/tokens and the start-up banner of `shop serve`."""

from __future__ import annotations

import re

import pytest

from cli.main import main
from services.tokens import TokenVerifier
from tests.web.conftest import app_client
from web.dev_auth import banner

JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(
    ("user_id", "is_admin"), [("user_demo_shopper", False), ("user_demo_admin", True)]
)
async def test_dev_tokens_are_minted_for_demo_users(make_settings, user_id, is_admin):
    settings = make_settings(env="dev", clerk_authorized_parties=["http://127.0.0.1:4173"])
    async with app_client(settings) as client:
        response = await client.post("/dev/tokens", json={"userId": user_id})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["user"]["id"] == user_id and body["user"]["isAdmin"] is is_admin
    verified = await TokenVerifier.from_settings(settings).verify(body["token"])
    assert verified.subject == user_id
    assert verified.expires_at == body["expiresAt"]
    assert verified.claims["azp"] == "http://127.0.0.1:4173"  # accepted where azp is checked
    assert (verified.claims.get("metadata") == {"role": "admin"}) is is_admin


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"json": {"userId": "user_somebody_else"}}, 400, "BAD_USER_INPUT"),
        ({"json": {}}, 400, "BAD_USER_INPUT"),
        ({"json": ["user_demo_shopper"]}, 400, "BAD_USER_INPUT"),
        ({"content": b"{nope", "headers": JSON}, 400, "BAD_REQUEST"),
        ({"data": {"userId": "user_demo_shopper"}}, 415, "BAD_REQUEST"),
    ],
    ids=["not-a-demo-user", "no-user", "not-an-object", "malformed", "form-encoded"],
)
async def test_dev_tokens_refuse_anything_but_a_demo_user(make_settings, kwargs, status, code):
    async with app_client(make_settings(env="dev")) as client:
        response = await client.post("/dev/tokens", **kwargs)
    assert response.status_code == status
    assert response.json()["errors"][0]["extensions"]["code"] == code
    assert "token" not in response.json()


@pytest.mark.parametrize(
    ("env", "with_clerk"),
    [("prod", True), ("dev", True), ("test", False)],
    ids=["prod", "dev-with-clerk", "test-without-clerk"],
)
async def test_dev_tokens_do_not_exist_outside_dev_or_with_clerk(
    make_settings, clerk_public_pem, env, with_clerk
):
    settings = make_settings(env=env, clerk_jwt_key=clerk_public_pem if with_clerk else None)
    async with app_client(settings) as client:
        response = await client.post("/dev/tokens", json={"userId": "user_demo_admin"})
    assert response.status_code == 404
    assert banner(settings, host="127.0.0.1", port=8000) is None


async def test_shop_serve_prints_graphiql_and_ready_tokens_in_dev(tmp_path, monkeypatch, capsys):
    import uvicorn

    from core.settings import get_settings

    started = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: started.update(kwargs))
    monkeypatch.setenv("ENV", "dev")
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        assert main(["serve", "--host", "0.0.0.0", "--port", "8123"]) == 0
        settings = get_settings()
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr().out
    assert started["host"] == "0.0.0.0" and started["port"] == 8123
    assert "GraphiQL: http://127.0.0.1:8123/graphql" in out
    tokens = dict(re.findall(r"demo (shopper|admin): +(\S+)", out))
    verifier = TokenVerifier.from_settings(settings)
    shopper = await verifier.verify(tokens["shopper"])
    admin = await verifier.verify(tokens["admin"])
    assert shopper.subject == "user_demo_shopper" and "metadata" not in shopper.claims
    assert admin.subject == "user_demo_admin" and admin.claims["metadata"] == {"role": "admin"}


def test_shop_serve_prints_no_token_in_prod(tmp_path, monkeypatch, capsys, clerk_public_pem):
    import uvicorn

    from core.settings import get_settings

    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)
    monkeypatch.setenv("ENV", "prod")
    monkeypatch.setenv("CLERK_JWT_KEY", clerk_public_pem)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        assert main(["serve"]) == 0
    finally:
        get_settings.cache_clear()
    assert capsys.readouterr().out == ""
    assert not (tmp_path / "dev-keys").exists()
