from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.tokens import DevIssuer
from tests.support.auth import CLIENT_ORIGIN
from tests.support.live_server import live_server


@pytest.fixture(scope="module")
def server_env(tmp_path_factory) -> dict[str, str]:
    data_dir = tmp_path_factory.mktemp("live")
    return {
        "DATA_DIR": str(data_dir),
        "CLERK_AUTHORIZED_PARTIES": CLIENT_ORIGIN,
        "MIGRATE_ON_START": "true",
    }


@pytest.fixture(scope="module")
def server(server_env) -> Iterator[str]:
    with live_server(server_env) as base:
        yield base


@pytest.fixture(scope="module")
def ws_url(server) -> str:
    return server.replace("http://", "ws://") + "/graphql"


@pytest.fixture(scope="module")
def live_issuer(server, server_env) -> DevIssuer:
    from pathlib import Path

    return DevIssuer(Path(server_env["DATA_DIR"]) / "dev-keys")


@pytest.fixture
def live_token(live_issuer):
    def make(subject: str, **kwargs) -> str:
        return live_issuer.issue(subject, azp=CLIENT_ORIGIN, **kwargs)

    return make
