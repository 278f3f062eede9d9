from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
import pytest_asyncio

from core.settings import Settings
from tests.support.auth import CLIENT_ORIGIN, LISTED_ADMIN, WEBHOOK_SECRET
from tests.support.services import POSTGRES_URL, REDIS_URL, need

BACKENDS = ("sqlite", "postgres")


@pytest.fixture(scope="session")
def redis_url() -> str:
    return need(REDIS_URL, "Redis")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    return need(POSTGRES_URL, "PostgreSQL")


async def _fresh_postgres(url: str):
    """Empty the test database, holding an advisory lock for the whole session so that two
    suites started at once on one machine take turns instead of dropping each other's
    tables. Returns the connection that holds the lock."""
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    await conn.execute("SELECT pg_advisory_lock(hashtext('shopgraph-test-suite'))")
    await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    return conn


def _release(connection) -> None:
    # The advisory lock goes with the connection; terminate() needs no event loop.
    connection.terminate()


@pytest_asyncio.fixture(scope="session", loop_scope="session", params=BACKENDS)
async def settings(request, tmp_path_factory) -> Settings:
    """Settings for one database backend; every API test runs once per backend."""
    data_dir: Path = tmp_path_factory.mktemp(f"data-{request.param}")
    database_url = ""
    if request.param == "postgres":
        database_url = need(POSTGRES_URL, "PostgreSQL")
        lock = await _fresh_postgres(database_url)
        request.addfinalizer(lambda: _release(lock))
    return Settings(
        env="test",
        data_dir=data_dir,
        database_url=database_url,
        broadcast_url="memory://",
        seed_on_start=False,
        migrate_on_start=True,
        # Tests write rows directly; the response cache has its own tests (test_response_cache).
        response_cache=False,
        # Background sweeps would show up in query-count tests; tests trigger them directly.
        reward_window_sweep_seconds=3600,
        catalog_refresh_seconds=3600,
        learn_poll_seconds=3600,
        documents_poll_seconds=3600,
        clerk_authorized_parties=[CLIENT_ORIGIN],
        clerk_webhook_secret=WEBHOOK_SECRET,
        admin_user_ids=[LISTED_ADMIN],
    )


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def app(settings: Settings) -> AsyncIterator:
    from app import create_app

    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest_asyncio.fixture(loop_scope="session")
async def db(app) -> AsyncIterator[None]:
    """An empty database for each test."""
    from services.seed import reset_database

    runtime = app.state.recommender
    await runtime.decisions.flush()
    # Each test starts from an untrained model and the beginning of an empty log.
    async with runtime.learning_paused():
        await reset_database()
    await runtime.catalog.load()
    yield


@pytest_asyncio.fixture(loop_scope="session")
async def client(app, db) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture(scope="session")
def issuer(settings):
    """The dev issuer the app under test trusts (same key pair, same verification path)."""
    from services.tokens import DevIssuer

    return DevIssuer.for_settings(settings)


@pytest.fixture
def token_for(issuer):
    """`token_for("user_x", admin=True)` → a session token for that Clerk user id."""

    def make(subject: str, **kwargs) -> str:
        return issuer.issue(subject, azp=CLIENT_ORIGIN, **kwargs)

    return make


@pytest.fixture
def alice(token_for) -> str:
    return token_for("user_alice", email="alice@example.com", name="Alice")


@pytest.fixture
def bob(token_for) -> str:
    return token_for("user_bob", email="bob@example.com", name="Bob")


@pytest.fixture
def admin(token_for) -> str:
    return token_for("user_admin", admin=True, email="admin@example.com", name="Admin")


SERVICE_SKIPS = ("is unreachable at", "redis-server is not on PATH")


def _service_skips(terminalreporter) -> dict[str, int]:
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = getattr(report, "longrepr", None)
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else ""
        reason = reason.removeprefix("Skipped: ")
        if any(marker in reason for marker in SERVICE_SKIPS):
            reasons[reason] = reasons.get(reason, 0) + 1
    return reasons


def pytest_unconfigure(config) -> None:
    """A green run with PostgreSQL or Redis missing tested much less than it seems: say so,
    loudly, on the very last lines (CI sets REQUIRE_SERVICES=1 and fails instead)."""
    terminalreporter = config.pluginmanager.get_plugin("terminalreporter")
    reasons = _service_skips(terminalreporter) if terminalreporter else {}
    if not reasons:
        return
    skipped = sum(reasons.values())
    terminalreporter.write_sep(
        "!", f"{skipped} TESTS SKIPPED: SERVICES MISSING", red=True, bold=True
    )
    for reason, count in sorted(reasons.items()):
        terminalreporter.write_line(f"  {count:5d} x {reason}", red=True)
    terminalreporter.write_line(
        "  These tests did not run. Start PostgreSQL and Redis (README), or set "
        "REQUIRE_SERVICES=1 to make their absence fail the run.",
        red=True,
        bold=True,
    )
