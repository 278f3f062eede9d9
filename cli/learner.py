"""`shop learner`: the dedicated recommendation learner process.

Stands for election like any candidate (so a second `shop learner` is a hot standby that
takes over within about a second when the first dies), and while elected learns every
reward, publishes snapshots, closes reward windows and purges the log
(`services.recommendations.learner`). It serves no requests. SIGTERM or Ctrl-C stop it
after a last learning pass and a last snapshot.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from core.settings import Settings, get_settings

logger = logging.getLogger("shopgraph.learner")


def add_command(sub: argparse._SubParsersAction) -> None:
    learner = sub.add_parser(
        "learner",
        help="Run the recommendation learner (with LEARNER_MODE=dedicated on the servers).",
    )
    learner.add_argument(
        "--metrics-port", type=int, default=0,
        help="Serve Prometheus metrics on this port (default: none).",
    )  # fmt: skip
    learner.add_argument("--metrics-host", default="127.0.0.1", help="Address of the metrics port.")
    learner.set_defaults(func=_learner)


def _learner(args: argparse.Namespace) -> int:
    from web.log_config import configure_logging

    settings = get_settings()
    configure_logging(log_format=settings.resolved_log_format, level=settings.log_level)
    if args.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(args.metrics_port, addr=args.metrics_host)
    asyncio.run(run_learner(settings))
    return 0


async def run_learner(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Stand for learner until `stop` is set (default: until SIGTERM or SIGINT)."""
    from core.db import database
    from live import EventHub
    from services import events
    from services.recommendations.candidates import CatalogIndexHolder
    from services.recommendations.learner import LearnerRole
    from services.recommendations.snapshots import SnapshotStore

    stop = stop or _stop_on_signals()
    async with database(settings, migrate_first=settings.should_migrate_on_start):
        hub = EventHub.from_url(settings.broadcast_url, namespace=settings.event_namespace)
        await hub.connect()
        catalog = CatalogIndexHolder(max_age=settings.catalog_refresh_seconds)
        await catalog.load()
        catalog.start()
        role = LearnerRole(
            settings, store=SnapshotStore(settings), catalog=catalog, hub=lambda: hub
        )
        follows = []
        try:
            for channel, action in (
                (events.REWARDS, role.wake),
                (events.CATALOG, catalog.mark_dirty),
                (events.INVENTORY, catalog.mark_dirty),
            ):
                ready = asyncio.Event()
                follows.append(asyncio.create_task(_follow(hub, channel, action, ready)))
                await ready.wait()
            role.start()
            logger.info("recommendation learner standing for election")
            await stop.wait()
            logger.info("stopping the recommendation learner")
        finally:
            for task in follows:
                task.cancel()
            for task in follows:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await role.stop()
            await catalog.stop()
            await hub.disconnect()


async def _follow(hub, channel: str, action, ready: asyncio.Event) -> None:
    async with hub.subscribe(channel) as stream:
        ready.set()
        async for _event in stream:
            action()


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop
