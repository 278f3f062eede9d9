"""A minimal HTTP/1.1 keep-alive load generator for benchmarks.

It sends pre-built request bytes over raw asyncio streams and parses only the status line
and Content-Length, so its own cost per request (tens of microseconds) stays far below the
servers' and the ratios between servers measured in one run stay meaningful.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlparse


@dataclass
class LoadResult:
    requests: int
    seconds: float
    latencies_ms: list[float]
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        data = sorted(self.latencies_ms)
        return data[min(len(data) - 1, int(q * len(data)))]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")


def build_request(url: str, *, method: str = "GET", body: bytes = b"", headers=None) -> bytes:
    parsed = urlparse(url)
    target = parsed.path + (f"?{parsed.query}" if parsed.query else "")
    lines = [f"{method} {target} HTTP/1.1", f"Host: {parsed.netloc}", "Connection: keep-alive"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    body = await reader.readexactly(length) if length else b""
    return status, body


async def fetch_once(url: str, request: bytes) -> tuple[int, bytes]:
    parsed = urlparse(url)
    reader, writer = await asyncio.open_connection(parsed.hostname, parsed.port)
    try:
        writer.write(request)
        return await _read_response(reader)
    finally:
        writer.close()


async def run_load(
    url: str,
    request: bytes | Sequence[bytes],
    *,
    concurrency: int,
    seconds: float,
    warmup: float = 1.0,
) -> LoadResult:
    """Send `request` over `concurrency` keep-alive connections; a sequence of requests is
    sent in turn (all connections share one rotation)."""
    parsed = urlparse(url)
    rotation = itertools.cycle([request] if isinstance(request, bytes) else request)
    latencies: list[float] = []
    counters = {"requests": 0, "errors": 0}
    measuring = asyncio.Event()
    window = {"start": 0.0, "stop": 0.0}

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(parsed.hostname, parsed.port)
        try:
            while True:
                started = time.perf_counter()
                if measuring.is_set() and started >= window["stop"]:
                    return
                writer.write(next(rotation))
                status, _ = await _read_response(reader)
                elapsed = time.perf_counter() - started
                if measuring.is_set() and started >= window["start"]:
                    counters["requests"] += 1
                    latencies.append(elapsed * 1000)
                    if status >= 400:
                        counters["errors"] += 1
        finally:
            writer.close()

    tasks = [asyncio.create_task(worker()) for _ in range(concurrency)]
    await asyncio.sleep(warmup)
    began = time.perf_counter()
    window["start"], window["stop"] = began, began + seconds
    measuring.set()
    await asyncio.gather(*tasks)
    return LoadResult(
        counters["requests"], time.perf_counter() - began, latencies, counters["errors"]
    )
