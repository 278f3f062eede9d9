"""Database wiring: the Tortoise configuration and lifecycle, from `Settings`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tortoise import Tortoise, connections
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.migrations.api import migrate

from core.settings import Settings

APP_LABEL = "shop"


SQLITE_ENGINE = "core.sqlite_client"


def tortoise_config(settings: Settings) -> dict[str, Any]:
    url = settings.resolved_database_url
    connection: str | dict[str, Any] = url
    if settings.is_postgres:
        sep = "&" if "?" in url else "?"
        connection = f"{url}{sep}maxsize={settings.database_pool_size}"
    else:
        # Tortoise's SQLite client, except that transactions begin IMMEDIATE (see the module).
        connection = {**expand_db_url(url), "engine": SQLITE_ENGINE}
    return {
        "connections": {"default": connection},
        "apps": {
            APP_LABEL: {
                "models": ["models"],
                "default_connection": "default",
                "migrations": "models.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _ensure_sqlite_dir(settings: Settings) -> None:
    if not settings.is_postgres and not settings.database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)


async def apply_migrations(settings: Settings) -> None:
    """Bring the schema up to the latest migration (idempotent)."""
    _ensure_sqlite_dir(settings)
    try:
        await migrate(config=tortoise_config(settings))
    finally:
        # Without this an aborted migration leaves aiosqlite's thread alive and the process hangs.
        await Tortoise.close_connections()


async def init_db(settings: Settings) -> None:
    _ensure_sqlite_dir(settings)
    # The global fallback lets request tasks see the connections opened in the lifespan task.
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)


async def close_db() -> None:
    await Tortoise.close_connections()
    # Tortoise caches insert/delete SQL per connection *name*; a later init may point the same
    # name at another dialect (tests run SQLite then PostgreSQL in one process).
    EXECUTOR_CACHE.clear()


@asynccontextmanager
async def database(settings: Settings, *, migrate_first: bool = True) -> AsyncIterator[None]:
    """Open the database for a command or the app's lifespan; close it afterwards."""
    if migrate_first:
        await apply_migrations(settings)
    await init_db(settings)
    try:
        yield
    finally:
        await close_db()


async def ping() -> bool:
    """True when the default connection answers a trivial query."""
    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception:
        return False
    return True


def __getattr__(name: str) -> dict[str, Any]:
    # `tortoise -c core.db.TORTOISE_ORM ...` (used by `shop makemigrations`) reads this.
    if name == "TORTOISE_ORM":
        from core.settings import get_settings

        return tortoise_config(get_settings())
    raise AttributeError(name)
