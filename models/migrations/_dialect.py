"""Helpers for migrations whose SQL differs between PostgreSQL and SQLite."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

Runner = Callable[[Any, Any], Awaitable[None]]


def per_dialect(*, postgres: str = "", sqlite: str = "") -> Runner:
    """A RunPython callable that executes the script written for the current dialect."""

    async def run(_apps: Any, schema_editor: Any) -> None:
        script = postgres if schema_editor.DIALECT == "postgres" else sqlite
        if script.strip():
            await schema_editor.client.execute_script(script)

    return run
