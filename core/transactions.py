"""`atomic()`: one database transaction, plus work that must only happen once it committed.

Side effects outside the database -- publishing live events, above all -- must not run
inside a transaction: subscribers would hear about stock or orders that a rollback then
takes back. Services register them with `tx.after_commit(...)`; they run after the
outermost `atomic()` commits and are dropped when it (or the nested block that registered
them) rolls back.

    async with atomic() as tx:
        ...
        tx.after_commit(events.inventory_changed, product.id, product.inventory)
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import TransactionalDBClient
from tortoise.transactions import in_transaction

logger = logging.getLogger("shopgraph.transactions")

Callback = tuple[Callable[..., Awaitable[Any]], tuple[Any, ...], dict[str, Any]]


class AfterCommit:
    """Callbacks collected during a transaction, run in order after it commits."""

    def __init__(self) -> None:
        self._callbacks: list[Callback] = []

    def after_commit(self, fn: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> None:
        # Stored uncalled, so a rollback leaves no never-awaited coroutine behind.
        self._callbacks.append((fn, args, kwargs))

    def _adopt(self, child: AfterCommit) -> None:
        self._callbacks.extend(child._callbacks)

    async def _run(self) -> None:
        for fn, args, kwargs in self._callbacks:
            try:
                await fn(*args, **kwargs)
            except Exception:
                # The change is committed; a lost notification must not turn it into an error.
                logger.exception("after-commit callback %s failed", getattr(fn, "__name__", fn))


_current: ContextVar[AfterCommit | None] = ContextVar("shopgraph_after_commit", default=None)


def after_commit(fn: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> None:
    """Register `fn` on the innermost `atomic()` block (for code that is handed no `tx`)."""
    hooks = _current.get()
    if hooks is None:
        raise RuntimeError("after_commit() must be called inside atomic()")
    hooks.after_commit(fn, *args, **kwargs)


@asynccontextmanager
async def atomic() -> AsyncIterator[AfterCommit]:
    """A transaction (a savepoint when nested) whose after-commit callbacks run on success.

    On SQLite the transaction begins IMMEDIATE (`core.sqlite_client`), so it holds the write
    lock from its first statement on.
    """
    parent = _current.get()
    if parent is None and isinstance(connections.get("default"), TransactionalDBClient):
        # Callbacks would run when the savepoint is released, before the real commit.
        raise RuntimeError("atomic() must not be nested inside a bare in_transaction()")
    hooks = AfterCommit()
    token = _current.set(hooks)
    try:
        async with in_transaction():
            yield hooks
    finally:
        _current.reset(token)
    if parent is not None:
        parent._adopt(hooks)
    else:
        await hooks._run()
