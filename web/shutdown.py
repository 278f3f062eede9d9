"""Graceful shutdown, in this order:

1. SIGTERM/SIGINT arrives. If a server (uvicorn) installed a handler for it, ours runs first:
   it closes every open websocket with 1001 (going away), then hands the signal to the
   server's handler.
2. Uvicorn stops accepting connections and lets in-flight requests finish, for at most
   `--timeout-graceful-shutdown` seconds (`SHUTDOWN_TIMEOUT_SECONDS` under `shop serve`).
3. The app's lifespan ends: the shutdown hooks run (newest first; e.g. the recommendation
   engine checkpoints its model), each bounded by a timeout and isolated from the others'
   failures, and only then are the event bus and the database closed.

Register a hook from anywhere that has the app: `app.state.shutdown.add_hook("name", fn)`
where `fn` is an async callable without arguments.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Awaitable, Callable
from types import FrameType
from typing import Any

from web.websockets import WebSocketTracker

log = logging.getLogger(__name__)

ShutdownHook = Callable[[], Awaitable[Any]]
HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Shutdown:
    def __init__(self, websockets: WebSocketTracker, *, hook_timeout: float = 10.0) -> None:
        self.websockets = websockets
        self.hook_timeout = hook_timeout
        self.hooks: list[tuple[str, ShutdownHook]] = []
        self._previous: dict[int, Any] = {}
        self._signalled = False
        self._closing_task: asyncio.Task[None] | None = None

    def add_hook(self, name: str, hook: ShutdownHook) -> None:
        self.hooks.append((name, hook))

    async def run_hooks(self) -> None:
        """Run every hook, newest first; one failing or hanging does not stop the others."""
        for name, hook in reversed(self.hooks):
            try:
                await asyncio.wait_for(hook(), self.hook_timeout)
            except TimeoutError:
                log.error("shutdown hook %s did not finish within %g s", name, self.hook_timeout)
            except Exception:
                log.exception("shutdown hook %s failed", name)

    # --- signals ------------------------------------------------------------------------

    def install_signal_handlers(self, loop: asyncio.AbstractEventLoop) -> None:
        """Run `close_all` before the server's own handler for SIGTERM/SIGINT.

        Only handlers a server installed are wrapped: the defaults (and Python's
        KeyboardInterrupt handler) are left alone, so tests and shells behave as usual."""
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in HANDLED_SIGNALS:
            previous = signal.getsignal(sig)
            if not callable(previous) or previous is signal.default_int_handler:
                continue
            self._previous[sig] = previous
            signal.signal(sig, self._make_handler(loop, previous))

    def restore_signal_handlers(self) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous.clear()

    def _make_handler(self, loop: asyncio.AbstractEventLoop, previous: Callable) -> Callable:
        def handler(signum: int, frame: FrameType | None) -> None:
            if self._signalled:  # a second signal: the server's behaviour (force quit)
                previous(signum, frame)
                return
            self._signalled = True

            async def close_then_continue() -> None:
                try:
                    await self.websockets.close_all()
                finally:
                    previous(signum, frame)

            def start() -> None:
                # Keep a reference: the loop holds tasks only weakly.
                self._closing_task = loop.create_task(close_then_continue())

            loop.call_soon_threadsafe(start)

        return handler
