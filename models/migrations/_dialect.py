"""Helpers for migrations whose SQL differs between PostgreSQL and SQLite."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tortoise.migrations import operations as ops

Runner = Callable[[Any, Any], Awaitable[None]]


def per_dialect(*, postgres: str = "", sqlite: str = "") -> Runner:
    """A RunPython callable that executes the script written for the current dialect."""

    async def run(_apps: Any, schema_editor: Any) -> None:
        script = postgres if schema_editor.DIALECT == "postgres" else sqlite
        if script.strip():
            await schema_editor.client.execute_script(script)

    return run


class DropColumn(ops.RemoveField):
    """`RemoveField` that drops the column in place on SQLite too.

    Tortoise's SQLite editor removes a field by rebuilding the table (create a copy, copy
    the rows, DROP the original, rename), and that DROP runs with foreign keys on: it
    deletes every row of the tables that reference this one with ON DELETE CASCADE, and the
    rebuilt table loses its indexes. SQLite has had `ALTER TABLE ... DROP COLUMN` since
    3.35 (2021) for plain columns, which is all this is used for.
    """

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:
        if state_editor is None or state_editor.DIALECT != "sqlite":
            await super().database_forward(app_label, old_state, new_state, state_editor)
            return
        model = old_state.apps.get_model(f"{app_label}.{self.model_name}")
        column = model._meta.fields_map[self.name].source_field or self.name
        await state_editor.client.execute_script(
            f'ALTER TABLE "{model._meta.db_table}" DROP COLUMN "{column}"'
        )


class SetNotNull(ops.AlterField):
    """`AlterField` making a column NOT NULL on PostgreSQL; on SQLite, where that needs the
    same destructive table rebuild (see `DropColumn`), the column stays nullable in the
    database and the model keeps refusing NULL."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:
        if state_editor is None or state_editor.DIALECT != "sqlite":
            await super().database_forward(app_label, old_state, new_state, state_editor)
