import json

import pytest

from bench.catalog import CATALOG, Scenario, check_answers
from bench.loadgen import build_request
from bench.rounds import DifferentData
from tests.bench.conftest import SMALL_CATALOG, run_bench, succeeded
from tests.support.live_server import live_server

# Real servers and databases: tens of seconds, though nothing is timed.
pytestmark = pytest.mark.slow


def products(*names: str) -> str:
    edges = [{"node": {"name": name}} for name in names]
    return json.dumps({"data": {"products": {"edges": edges}}})


async def test_servers_answering_different_data_fail_the_check(tmp_path):
    scenario = Scenario("catalog", "catalog", CATALOG, ("handwritten", "graphql_core"))
    request = build_request("http://127.0.0.1/graphql", method="POST", body=b"{}")
    common = {"DATA_DIR": str(tmp_path)}
    factory = {"factory": "tests.bench.answering_apps:fixed"}
    with (
        live_server({**common, "ANSWER": products("Boot", "Cap")}, **factory) as a,
        live_server({**common, "ANSWER": products("Boot", "Hat")}, **factory) as b,
        live_server({**common, "ANSWER": products("Boot", "Cap")}, **factory) as same,
    ):
        await check_answers(scenario, {"handwritten": a, "graphql_core": same}, lambda k: request)
        with pytest.raises(DifferentData, match="answered different data"):
            await check_answers(scenario, {"handwritten": a, "graphql_core": b}, lambda k: request)


def test_catalog_benchmark_runs_every_scenario_and_prints_ratios(read_database):
    out = succeeded(
        run_bench(
            "catalog",
            "--database-url",
            read_database,
            "--products",
            str(SMALL_CATALOG),
            "--concurrency",
            "2",
            # Windows of 0.2 s can hold no finished request on a loaded machine (EmptyRound).
            *("--seconds", "0.5", "--warmup", "0.2", "--rounds", "3"),
        )
    )
    for title in ("products(first: 50)", "order(id) with 20 lines", "cart with 10 lines",
                  "recommendations(first: 10)", "(a') hand-written + same cache"):  # fmt: skip
        assert title in out
    assert "errors=" not in out
