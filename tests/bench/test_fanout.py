import argparse

import pytest

from bench.fanout import measure
from tests.bench.conftest import run_bench, succeeded
from tests.support.live_server import live_server
from tests.support.services import fresh_postgres_database

# Real servers and databases: tens of seconds, though nothing is timed.
pytestmark = pytest.mark.slow


async def test_fanout_on_postgres_and_redis_with_client_processes(redis_url):
    url = await fresh_postgres_database("fanout")
    out = succeeded(
        run_bench(
            "fanout",
            "--subscribers",
            "10",
            "--events",
            "2",
            "--cycles",
            "50",
            "--rounds",
            "3",
            "--database-url",
            url,
            "--redis-url",
            redis_url,
        )
    )
    assert "shopgraph on PostgreSQL + Redis" in out
    assert "10 subscribers: p99" in out


async def test_subscribers_that_never_receive_the_event_are_failures(tmp_path):
    args = argparse.Namespace(client_processes=2, events=1, timeout=0.5)

    async def silent(_value: int) -> None:  # the event is never published
        return None

    with live_server({"DATA_DIR": str(tmp_path)}, factory="bench.baselines:bare_websockets",
                     health_path="/healthz") as base:  # fmt: skip
        result = await measure(base, 6, silent, args, first_round=True)
    assert result.failures == 6
    assert result.latencies == []
