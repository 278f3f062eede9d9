import pytest

from tests.bench.conftest import SMALL_CATALOG, TINY, run_bench, succeeded

# Real servers and databases: tens of seconds, though nothing is timed.
pytestmark = pytest.mark.slow


def test_recommendations_against_a_raw_vw_loop(read_database):
    out = succeeded(
        run_bench(
            "recommendations",
            "--database-url",
            read_database,
            "--products",
            str(SMALL_CATALOG),
            "--concurrency",
            "2",
            *TINY,
        )
    )
    assert "raw VW loop (Workspace, model only)" in out
    assert "throughput shopgraph / raw VW, per round:" in out
    assert "FAILED" not in out
