"""Schemathesis fuzzing of the GraphQL API on a live, production-like server.

Every root field of `schema.graphql` gets generated operations, valid and invalid (wrong
types, missing arguments, odd strings and numbers), sent by a signed-in admin (so that the
most code runs) to a uvicorn process in ENV=prod with OPERATIONS=any: errors masked,
introspection off. Each response must be a JSON object with no 5xx status, every error must
carry a code, and none may be INTERNAL_SERVER_ERROR; afterwards the server log must hold no
error line.

`FUZZ_EXAMPLES` sets the examples per root field and backend (default 25: 7 fields x 2
backends = ~350 operations, ~20 s); `make fuzz` runs more.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import asyncpg
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes

from tests.support.apps import PROD_ISSUER, prod_public_pem, prod_token
from tests.support.live_server import ROOT, live_process, log_path
from tests.support.services import POSTGRES_URL, need

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
ADMIN = "user_fuzz_admin"
pytestmark = [pytest.mark.fuzz, pytest.mark.slow]

# Our custom scalars: well-formed values most of the time, junk some of the time.
schemathesis.graphql.scalar(
    "Decimal",
    st.one_of(
        st.decimals(min_value=-(10**6), max_value=10**6, places=2, allow_nan=False).map(str),
        st.sampled_from(["NaN", "1e999", "abc", "", "0.001", "-0"]),
    ).map(nodes.String),
)
schema = schemathesis.graphql.from_path(ROOT / "schema.graphql")


async def _admin(url: str, statement: str) -> None:
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(request, tmp_path_factory) -> Iterator[tuple[str, dict[str, str]]]:
    import asyncio

    env = {
        "ENV": "prod",
        "DATA_DIR": str(tmp_path_factory.mktemp(f"fuzz-{request.param}")),
        "CLERK_JWT_KEY": prod_public_pem(),
        "CLERK_ISSUER": PROD_ISSUER,
        "ADMIN_USER_IDS": ADMIN,
        "MIGRATE_ON_START": "true",
        "SEED_ON_START": "true",
        "LOG_FORMAT": "json",
        # Prod defaults otherwise; one client would soon be throttled, which hides mutations.
        "RATE_LIMIT_MUTATIONS": "0",
        # The fuzzer makes up documents: trusted mode (the prod default) would refuse them all.
        "OPERATIONS": "any",
    }
    if request.param != "postgres":
        with live_process(env, startup_timeout=60) as (base, _process):
            yield base, env
        return
    # A database of its own (per process: other checkouts may be testing at the same time).
    admin_url = need(POSTGRES_URL, "PostgreSQL")
    name = f"shopgraph_fuzz_{os.getpid()}"
    asyncio.run(_admin(admin_url, f'CREATE DATABASE "{name}"'))
    env["DATABASE_URL"] = admin_url.rsplit("/", 1)[0] + "/" + name
    try:
        with live_process(env, startup_timeout=60) as (base, _process):
            yield base, env
    finally:
        asyncio.run(_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="module")
def session(server) -> Iterator[requests.Session]:
    with requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {prod_token(ADMIN, name='Fuzz Admin')}"
        yield http


def check_response(response: requests.Response, sent: object) -> None:
    assert response.status_code < 500, (sent, response.text)
    body = response.json()
    assert isinstance(body, dict), (sent, body)
    for error in body.get("errors") or ():
        code = (error.get("extensions") or {}).get("code")
        assert code, (sent, error)
        assert code != "INTERNAL_SERVER_ERROR", (sent, error)
        assert "Traceback" not in error["message"], (sent, error)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    print_blob=True,
)
def test_generated_operations_never_fail_the_server(case, server, session):
    base, _env = server
    response = case.call(base_url=f"{base}/graphql", session=session, timeout=10)
    check_response(response, case.body)


def test_the_server_logged_no_unexpected_error(server, session):
    # Runs after the generated operations of this backend (module order).
    base, env = server
    assert session.post(f"{base}/graphql", json={"query": "{ me { isAdmin } }"}).json() == {
        "data": {"me": {"isAdmin": True}},
        "extensions": {"cost": {"requested": 1, "limit": 1000}},
    }
    lines = [json.loads(line) for line in log_path(env, base).read_text().splitlines() if line]
    assert [line for line in lines if line["level"] in ("ERROR", "CRITICAL")] == []
