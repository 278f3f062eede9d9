"""Shutdown hooks and the signal hand-over to the server."""

from __future__ import annotations

import asyncio
import signal

import pytest

from core import db
from core.settings import Settings
from services import events
from web.shutdown import Shutdown
from web.websockets import WebSocketTracker


async def test_hooks_run_newest_first_and_survive_failures_and_hangs(caplog):
    shutdown = Shutdown(WebSocketTracker(), hook_timeout=0.1)
    ran: list[str] = []

    async def record(name):
        ran.append(name)

    async def fails():
        ran.append("fails")
        raise RuntimeError("disk full")

    async def hangs():
        ran.append("hangs")
        await asyncio.sleep(10)

    shutdown.add_hook("first", lambda: record("first"))
    shutdown.add_hook("fails", fails)
    shutdown.add_hook("hangs", hangs)
    shutdown.add_hook("last", lambda: record("last"))
    await shutdown.run_hooks()
    assert ran == ["last", "hangs", "fails", "first"]
    messages = [r.getMessage() for r in caplog.records]
    assert "shutdown hook hangs did not finish within 0.1 s" in messages
    assert "shutdown hook fails failed" in messages


async def test_lifespan_runs_the_hooks_before_closing_the_database(tmp_path, monkeypatch):
    import app as app_module
    from app import create_app

    order: list[str] = []

    async def init_db(_settings):
        order.append("db open")

    async def close_db():
        order.append("db closed")

    monkeypatch.setattr(db, "init_db", init_db)
    monkeypatch.setattr(db, "close_db", close_db)

    class Runtime:
        """No database here: the recommender's start would query it."""

        def __init__(self, _settings):
            pass

        async def start(self, _hub):
            pass

        async def stop(self):
            pass

    monkeypatch.setattr(app_module, "RecommenderRuntime", Runtime)

    class DocumentSync:
        """No database here either: the trusted documents' sync reads their table. (Without
        this stand-in the test passed only after another test had initialised Tortoise.)"""

        def __init__(self, *_args):
            pass

        async def start(self, _hub):
            pass

        async def stop(self):
            pass

    monkeypatch.setattr(app_module, "DocumentSync", DocumentSync)
    # The lifespan installs (then removes) the process-wide event hub: keep the session's.
    session_hub = events.hub()
    app = create_app(
        Settings(env="test", data_dir=tmp_path, seed_on_start=False, migrate_on_start=False)
    )

    async def checkpoint_model():
        order.append("model checkpointed")

    app.state.shutdown.add_hook("recommendations", checkpoint_model)
    try:
        async with app.router.lifespan_context(app):
            order.append("serving")
    finally:
        events.install(session_hub)
    assert order == ["db open", "serving", "model checkpointed", "db closed"]


async def test_a_server_signal_handler_runs_after_websockets_are_closed():
    order: list[str] = []

    class Tracker(WebSocketTracker):
        async def close_all(self, *args, **kwargs):
            order.append("websockets closed")
            return 0

    def server_handler(signum, frame):
        order.append(f"server got {signal.Signals(signum).name}")

    previous = signal.signal(signal.SIGTERM, server_handler)
    shutdown = Shutdown(Tracker())
    try:
        shutdown.install_signal_handlers(asyncio.get_running_loop())
        handler = signal.getsignal(signal.SIGTERM)
        assert handler is not server_handler
        handler(signal.SIGTERM, None)
        for _ in range(20):
            await asyncio.sleep(0)
        assert order == ["websockets closed", "server got SIGTERM"]
        # A second signal goes straight to the server (e.g. a second Ctrl-C forces exit).
        handler(signal.SIGTERM, None)
        assert order[-1] == "server got SIGTERM" and len(order) == 3
        shutdown.restore_signal_handlers()
        assert signal.getsignal(signal.SIGTERM) is server_handler
    finally:
        signal.signal(signal.SIGTERM, previous)


@pytest.mark.parametrize("installed", [signal.SIG_DFL, signal.SIG_IGN, signal.default_int_handler])
async def test_default_handlers_are_left_alone(installed):
    previous = signal.signal(signal.SIGTERM, installed)
    try:
        Shutdown(WebSocketTracker()).install_signal_handlers(asyncio.get_running_loop())
        assert signal.getsignal(signal.SIGTERM) is installed
    finally:
        signal.signal(signal.SIGTERM, previous)
