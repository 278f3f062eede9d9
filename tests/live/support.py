"""Helpers for the live event bus tests: names, metrics, polling and a private Redis server."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable

import pytest
from broadcaster._backends.memory import MemoryBackend
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from live import EventHub
from tests.support.services import services_required


def new_channel(family: str = "test") -> str:
    """A channel no other test uses, so tests sharing one Redis cannot see each other."""
    return f"{family}:{uuid.uuid4().hex}"


def metric(name: str, **labels: str) -> float:
    """Current value of a sample in the default registry (0 when it was never touched)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `predicate` every 10 ms; fail the test with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting until {what}")
        await asyncio.sleep(0.01)


async def bus_subscriptions(hub: EventHub, channel: str, redis_url: str | None) -> int:
    """How many subscriptions to `channel` the transport itself holds.

    For Redis this asks the server (PUBSUB NUMSUB), so it counts subscriber connections of
    every hub on that server, not what our code believes.
    """
    if isinstance(hub.backend, MemoryBackend):
        return int(channel in hub.backend._subscribed)
    assert redis_url is not None
    client = Redis.from_url(redis_url)
    try:
        [(_, count)] = await client.pubsub_numsub(channel)
        return count
    finally:
        await client.aclose()


def live_tasks() -> set[asyncio.Task]:
    current = asyncio.current_task()
    return {task for task in asyncio.all_tasks() if not task.done() and task is not current}


async def assert_no_new_tasks(baseline: set[asyncio.Task]) -> None:
    """Fail if tasks started since `baseline` are still running after a short grace period."""
    deadline = time.monotonic() + 1.0
    while (leftover := live_tasks() - baseline) and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert not leftover, f"tasks left running: {leftover}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A throwaway `redis-server` on a fixed port, to stop, restart and pause at will."""

    def __init__(self, port: int, *, password: str | None = None) -> None:
        self.port = port
        self.password = password
        credentials = f":{password}@" if password else ""
        self.url = f"redis://{credentials}127.0.0.1:{port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    @staticmethod
    def require() -> None:
        """Skip the test without `redis-server`, or fail it under REQUIRE_SERVICES=1."""
        if not RedisServer.available():
            message = "redis-server is not on PATH"
            if services_required():
                pytest.fail(f"{message} and REQUIRE_SERVICES=1", pytrace=False)
            pytest.skip(message)

    def start(self) -> None:
        self._process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                *(["--requirepass", self.password] if self.password else []),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 5.0
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    # A password-protected server answers -NOAUTH: it is up all the same.
                    if conn.recv(16).startswith((b"+PONG", b"-NOAUTH")):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.02)

    def stop(self) -> None:
        if self._process is None:
            return
        self.resume()
        self._process.terminate()
        self._process.wait(timeout=5)
        self._process = None

    def pause(self) -> None:
        """Freeze the server: connections stay open and nothing answers (a hung Redis)."""
        assert self._process is not None
        os.kill(self._process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self._process is not None:
            os.kill(self._process.pid, signal.SIGCONT)
