"""Persisted documents over websockets, and documents added while servers run.

A prod server in trusted mode (its default) serves a manifest: subscriptions, queries and
mutations run by `documentId` or APQ hash on graphql-transport-ws, a document sent in full
gets the fixed error (on the legacy graphql-ws protocol too). Then `shop documents add`
reaches running servers without a restart: through the event bus (Redis), and by polling
when the bus is in memory.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.support.apps import PROD_ISSUER, prod_public_pem, prod_token
from tests.support.live_server import ROOT, live_server
from tests.ws.support import WSClient, metrics_text, wait_for_gauges

SUBSCRIBE = "subscription Stock($p: ID) { inventoryChanged(productId: $p) { inventory } }"
SET_STOCK = """mutation SetStock($p: ID!, $n: Int!) {
  setInventory(productId: $p, inventory: $n) { product { inventory } userErrors { code } } }"""
PRICE = "query Price($p: ID!) { product(id: $p) { name } }"
PRODUCT = base64.b64encode(b"Product:1").decode()
ADMIN = "user_ws_admin"
TRUSTED_ERROR = {
    "message": "This API runs trusted documents only: send the documentId of a registered document",
    "extensions": {"code": "TRUSTED_DOCUMENT_REQUIRED"},
}


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def by_id(text: str, variables: dict) -> dict:
    return {"documentId": f"sha256:{sha(text)}", "variables": variables}


def prod_env(data_dir, **extra: str) -> dict[str, str]:
    return {
        "ENV": "prod",
        "DATA_DIR": str(data_dir),
        "CLERK_JWT_KEY": prod_public_pem(),
        "CLERK_ISSUER": PROD_ISSUER,
        "ADMIN_USER_IDS": ADMIN,
        "MIGRATE_ON_START": "true",
        **extra,
    }


@pytest.fixture(scope="module")
def trusted_server(tmp_path_factory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("trusted-ws")
    manifest = data_dir / "manifest.json"
    manifest.write_text(json.dumps({f"sha256:{sha(d)}": d for d in (SUBSCRIBE, SET_STOCK, PRICE)}))
    env = prod_env(
        data_dir,
        SEED_ON_START="true",
        PERSISTED_DOCUMENTS_FILES=str(manifest),
        METRICS_TOKEN=METRICS_TOKEN,  # prod serves /metrics only behind a token
    )
    with live_server(env, startup_timeout=60) as base:
        yield base


METRICS_TOKEN = "scrape-token"


def ws(base: str) -> str:
    return base.replace("http://", "ws://") + "/graphql"


def test_operations_and_subscriptions_run_by_id_and_full_documents_are_refused(trusted_server):
    admin = prod_token(ADMIN)

    async def scenario() -> None:
        client = await WSClient.connect(ws(trusted_server))
        try:
            await client.send(
                {"id": "q", "type": "subscribe", "payload": by_id(PRICE, {"p": PRODUCT})}
            )
            assert (await client.next_data("q"))["product"]["name"]
            assert (await client.receive()) == {"id": "q", "type": "complete"}

            await client.subscribe("full", "{ __typename }")
            assert await client.receive() == {
                "id": "full",
                "type": "error",
                "payload": [TRUSTED_ERROR],
            }

            unknown = by_id("query Nope { __typename }", {})
            await client.send({"id": "u", "type": "subscribe", "payload": unknown})
            refused = await client.receive()
            assert refused["type"] == "error"
            assert refused["payload"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"

            # The socket is still open: a subscription by APQ hash, fed by a mutation by id.
            hashed = {
                "variables": {"p": PRODUCT},
                "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha(SUBSCRIBE)}},
            }
            before = await metrics_text(trusted_server, token=METRICS_TOKEN)
            await client.send({"id": "s", "type": "subscribe", "payload": hashed})
            # The server subscribes to the bus channel first: wait until it has.
            await wait_for_gauges(
                trusted_server, above=before, token=METRICS_TOKEN, live_subscribers__inventory=1
            )
            response = await asyncio.to_thread(
                httpx.post,
                f"{trusted_server}/graphql",
                json=by_id(SET_STOCK, {"p": PRODUCT, "n": 17}),
                headers={"authorization": f"Bearer {admin}"},
            )
            assert response.json()["data"]["setInventory"]["userErrors"] == []
            assert (await client.next_data("s"))["inventoryChanged"]["inventory"] == 17
        finally:
            await client.close()

    asyncio.run(scenario())


# --- `shop documents add` while servers run ---------------------------------------------


def _add(manifest, env: dict[str, str]) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "cli.main", "documents", "add", str(manifest)],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr


def _wait_until_trusted(base: str, document: str, timeout: float) -> float:
    """Seconds until the server runs `document` by id (asks every 50 ms)."""
    started = time.monotonic()
    while True:
        body = httpx.post(f"{base}/graphql", json=by_id(document, {"p": PRODUCT})).json()
        if "data" in body:
            return time.monotonic() - started
        assert body["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND", body
        assert time.monotonic() - started < timeout, f"not trusted after {timeout} s"
        time.sleep(0.05)


@pytest.mark.redis
def test_a_document_added_by_the_command_reaches_running_servers_over_the_bus(redis_url, tmp_path):
    document = f"query Added{uuid.uuid4().hex[:6]}($p: ID!) {{ product(id: $p) {{ id }} }}"
    manifest = tmp_path / "added.json"
    manifest.write_text(json.dumps({f"sha256:{sha(document)}": document}))
    # Polling every hour: only the event can tell the servers within the test.
    env = prod_env(
        tmp_path,
        BROADCAST_URL=redis_url,
        EVENT_NAMESPACE=f"docs-{uuid.uuid4().hex[:8]}",
        DOCUMENTS_POLL_SECONDS="3600",
        PERSISTED_DOCUMENTS_FILES="",
    )
    second_env = {**env, "MIGRATE_ON_START": "false"}
    with (
        live_server(env, startup_timeout=60) as first,
        live_server(second_env, startup_timeout=60) as second,
    ):
        before = httpx.post(f"{first}/graphql", json=by_id(document, {"p": PRODUCT})).json()
        assert before["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        _add(manifest, env)
        for base in (first, second):
            _wait_until_trusted(base, document, timeout=10)


def test_without_a_shared_bus_servers_find_new_documents_by_polling(tmp_path):
    document = "query Polled($p: ID!) { product(id: $p) { id } }"
    manifest = tmp_path / "polled.json"
    manifest.write_text(json.dumps({f"sha256:{sha(document)}": document}))
    env = prod_env(
        tmp_path,
        BROADCAST_URL="memory://",
        DOCUMENTS_POLL_SECONDS="0.5",
        PERSISTED_DOCUMENTS_FILES="",
    )
    with live_server(env, startup_timeout=60) as base:
        _add(manifest, env)
        assert _wait_until_trusted(base, document, timeout=10) < 5
