"""Reachability of the external services the suite can use (PostgreSQL, Redis).

Tests that need a service skip when it is unreachable on a laptop; CI sets
REQUIRE_SERVICES=1 so that a missing service fails the run instead of hiding tests.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

import pytest

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def services_required() -> bool:
    return os.environ.get("REQUIRE_SERVICES", "") not in ("", "0", "false", "no")


def reachable(url: str, timeout: float = 0.5) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port), timeout=timeout):
            return True
    except OSError:
        return False


def need(url: str, what: str) -> str:
    """Return `url` when the service answers; otherwise skip (or fail under REQUIRE_SERVICES)."""
    if reachable(url):
        return url
    message = f"{what} is unreachable at {url}"
    if services_required():
        pytest.fail(f"{message} and REQUIRE_SERVICES=1", pytrace=False)
    pytest.skip(message)


async def fresh_postgres_database(suffix: str, *, template: str | None = None) -> str:
    """A new PostgreSQL database next to the test database (`<name>_<suffix>`), empty or a
    copy of the database at `template` (a URL), for tests that need one of their own (real
    processes, migrations); returns its URL."""
    from urllib.parse import urlparse

    import asyncpg

    url = need(POSTGRES_URL, "PostgreSQL")
    parsed = urlparse(url)
    name = f"{parsed.path.lstrip('/')}_{suffix}"
    admin = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        copy = f' TEMPLATE "{urlparse(template).path.lstrip("/")}"' if template else ""
        await admin.execute(f'CREATE DATABASE "{name}"{copy}')
    finally:
        await admin.close()
    return parsed._replace(path=f"/{name}").geturl()
