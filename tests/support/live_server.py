"""A real uvicorn process serving the app, for websocket, multi-process tests and benchmarks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


class ServerURL(str):
    """The server's base URL; `.pid` is its process id (for memory measurements)."""

    pid: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def live_server(env: dict[str, str], **options) -> Iterator[ServerURL]:
    """Run `uvicorn app:create_app` with `env` on top of the current environment; yield its
    base URL (http://127.0.0.1:PORT) once it answers; stop it afterwards. `options` as for
    `live_process`."""
    with live_process(env, **options) as (base, _process):
        yield base


@contextmanager
def live_process(
    env: dict[str, str],
    *,
    port: int | None = None,
    # A deadline, not a wait: start-up polls /healthz. Generous for a loaded CI machine.
    startup_timeout: float = 120.0,
    factory: str = "app:create_app",
    health_path: str = "/healthz",
    args: Sequence[str] = (),
    shop_serve: bool = False,
) -> Iterator[tuple[ServerURL, subprocess.Popen]]:
    """Run uvicorn on `factory` with extra `args` (or, with `shop_serve`, the `shop serve`
    command as operators do); yield the base URL and the process (to signal it; its output
    is in `log_path(env, base)`)."""
    port = port or free_port()
    full_env = {**os.environ, "ENV": "test", "SEED_ON_START": "false", **env}
    log = Path(env.get("DATA_DIR", "/tmp")) / f"uvicorn-{port}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        if shop_serve:
            command = [sys.executable, "-m", "cli.main", "serve", "--host", "127.0.0.1"]
            command += ["--port", str(port), *args]
        else:
            command = [sys.executable, "-m", "uvicorn", factory, "--factory"]
            command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
            command += args
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        base = ServerURL(f"http://127.0.0.1:{port}")
        base.pid = process.pid
        try:
            deadline = time.monotonic() + startup_timeout
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"server exited early:\n{log.read_text()}")
                try:
                    if httpx.get(f"{base}{health_path}", timeout=0.5).status_code < 500:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start:\n{log.read_text()}")
                time.sleep(0.1)
            yield base, process
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def log_path(env: dict[str, str], base: str) -> Path:
    """Where the server started by `live_process(env)` at `base` writes its output."""
    return Path(env.get("DATA_DIR", "/tmp")) / f"uvicorn-{base.rsplit(':', 1)[1]}.log"
