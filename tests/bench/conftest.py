"""Smoke runs of the benchmarks: each one for a tiny duration, as `make bench` runs it (a
subprocess, real servers on sockets, PostgreSQL and Redis), to prove it still runs end to
end and fails when it should. The figures are not checked: speed is never asserted."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest_asyncio

from tests.support.live_server import ROOT, live_server
from tests.support.services import fresh_postgres_database


def run_bench(module: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """`python -m bench.<module> args...` from the project root; output captured."""
    return subprocess.run(
        [sys.executable, "-m", f"bench.{module}", *args],
        cwd=ROOT,
        env={**os.environ, "LOG_LEVEL": "WARNING"},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def succeeded(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def read_database(tmp_path_factory) -> str:
    """The read benchmarks' data (bench/scenario_data.py) at a small size, with the
    benchmark shopper's order and cart made through the API, once per session."""
    from bench.scenario_data import prepare_database, prepare_shopper
    from core.settings import Settings

    url = await fresh_postgres_database("read")
    sellable = await prepare_database(url, SMALL_CATALOG)
    data_dir = tmp_path_factory.mktemp("bench-read")
    env = {"DATABASE_URL": url, "DATA_DIR": str(data_dir), "MIGRATE_ON_START": "false"}
    with live_server(env) as base:
        await prepare_shopper(Settings(env="test", database_url=url, data_dir=data_dir), base,
                              sellable)  # fmt: skip
    return url


SMALL_CATALOG = 300  # the benchmarks' own seeding; >= 30 sellable products for the shopper
TINY = ("--seconds", "0.2", "--warmup", "0.1", "--rounds", "3")
