"""Hand-written SQL for the two dialects we run on: bound parameters and small differences.

Used where Tortoise's query builder cannot express a query (keyset comparisons, full-text
ranking, date bucketing). Only fixed identifiers are ever spliced into SQL text; every value
goes through `param`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise import connections


def on_postgres() -> bool:
    return connections.get("default").capabilities.dialect == "postgres"


@dataclass
class SqlBuilder:
    """Collects bound parameters and hands out the dialect's placeholders."""

    postgres: bool = field(default_factory=on_postgres)
    params: list[Any] = field(default_factory=list)

    def param(self, value: Any, cast: str = "") -> str:
        if not self.postgres and isinstance(value, datetime):
            value = value.isoformat(sep=" ")  # SQLite compares timestamps as text
        self.params.append(value)
        return f"${len(self.params)}{cast}" if self.postgres else "?"

    def day(self, column: str) -> str:
        """The calendar day (UTC) of a timestamp column."""
        return f"date_trunc('day', {column})::date" if self.postgres else f"date({column})"

    async def rows(self, sql: str) -> list[dict[str, Any]]:
        return await connections.get("default").execute_query_dict(sql, self.params)
