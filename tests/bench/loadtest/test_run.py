import argparse
import asyncio

import pytest

from bench.loadtest.run import locust, prepare, server
from tests.support.services import fresh_postgres_database

# Real servers and databases: tens of seconds, though nothing is timed.
pytestmark = pytest.mark.slow


def test_a_day_in_the_shop_runs_in_prod_mode_without_errors(tmp_path, redis_url):
    url = asyncio.run(fresh_postgres_database("loadtest"))
    args = argparse.Namespace(database_url=url, redis_url=redis_url, products=200, users=12,
                              spawn_rate=12, seconds=8, processes=2)  # fmt: skip
    env = prepare(args, tmp_path)
    with server(env, 1) as (base, _process):
        run = locust(base, args, tmp_path, "smoke")
    stats = run["stats"]
    assert stats["Aggregated"]["count"] > 0
    for operation in ("Catalog: browse", "ProductPage", "Recommendations: product page"):
        assert stats[operation]["count"] > 0, operation
    # Stock refusals are the shop working; anything else is a broken load test or server.
    unexpected = {m: n for m, n in run["failures"].items() if "OUT_OF_STOCK" not in m}
    assert not unexpected
