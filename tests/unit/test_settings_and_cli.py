import asyncio

import pytest

from app import create_app
from cli.main import main
from core.settings import Settings
from services.tokens import TokenVerifier


def test_prod_refuses_to_start_without_a_clerk_key(tmp_path):
    with pytest.raises(RuntimeError, match="CLERK_JWT_KEY"):
        create_app(Settings(env="prod", data_dir=tmp_path))


def test_comma_separated_lists_are_parsed(monkeypatch):
    monkeypatch.setenv("ADMIN_USER_IDS", "user_a, user_b,,")
    assert Settings().admin_user_ids == ["user_a", "user_b"]


def test_postgres_url_aliases_are_normalised():
    assert Settings(database_url="postgresql://u@h/db").database_url == "postgres://u@h/db"


def test_shop_token_prints_a_token_the_dev_server_accepts(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ENV", "dev")
    from core.settings import get_settings

    get_settings.cache_clear()
    try:
        assert (
            main(["token", "user_cli", "--admin", "--email", "c@example.com", "--ttl", "60"]) == 0
        )
        token = capsys.readouterr().out.strip()
        verifier = TokenVerifier.from_settings(get_settings())
        verified = asyncio.run(verifier.verify(token))
    finally:
        get_settings.cache_clear()
    assert verified.subject == "user_cli"
    assert verified.claims["metadata"] == {"role": "admin"}
    assert verified.claims["email"] == "c@example.com"
    assert verified.expires_at - verified.claims["iat"] == 60


def test_shop_token_refuses_when_clerk_is_configured(tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CLERK_JWKS_URL", "https://clerk.example/.well-known/jwks.json")
    from core.settings import get_settings

    get_settings.cache_clear()
    try:
        assert main(["token", "user_cli"]) == 2
    finally:
        get_settings.cache_clear()


def test_shop_serve_drains_for_the_configured_time_and_resets_multiprocess_metrics(
    tmp_path, monkeypatch
):
    import uvicorn

    from core.settings import get_settings

    calls = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.update(kw, app=app))
    monkeypatch.setenv("SHUTDOWN_TIMEOUT_SECONDS", "7.5")
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    (metrics_dir / "counter_123.db").write_bytes(b"stale")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(metrics_dir))
    get_settings.cache_clear()
    try:
        assert main(["serve", "--workers", "2"]) == 0
    finally:
        get_settings.cache_clear()
    assert calls["timeout_graceful_shutdown"] == 7.5
    assert calls["ws_max_size"] == 128 * 1024
    assert calls["workers"] == 2
    assert list(metrics_dir.iterdir()) == []
