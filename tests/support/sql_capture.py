"""What the app actually sends to PostgreSQL: every statement, as asyncpg receives it.

Tortoise can build a query that reads like a lock and send one without a lock clause, so
tests that rest on SQL look at the statements on the wire, not at the ORM call.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from asyncpg.connection import Connection

_METHODS = ("execute", "executemany", "fetch", "fetchrow", "fetchval")


@contextmanager
def sent_statements() -> Iterator[list[str]]:
    """Record the SQL text of every statement asyncpg sends while the block runs."""
    sent: list[str] = []
    originals = {name: getattr(Connection, name) for name in _METHODS}

    def recorder(original):
        def recording(self, query, *args, **kwargs):
            sent.append(query)
            return original(self, query, *args, **kwargs)

        return recording

    for name, original in originals.items():
        setattr(Connection, name, recorder(original))
    try:
        yield sent
    finally:
        for name, original in originals.items():
            setattr(Connection, name, original)


def locking(sent: list[str], table: str) -> list[str]:
    """The statements that lock rows of `table`."""
    return [s for s in sent if f'FROM "{table}"' in s and "FOR NO KEY UPDATE" in s]
