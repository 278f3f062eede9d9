import pytest

from tests.bench.conftest import run_bench, succeeded
from tests.support.services import fresh_postgres_database

# Real servers and databases: tens of seconds, though nothing is timed.
pytestmark = pytest.mark.slow


async def test_checkout_through_services_and_a_real_server(tmp_path):
    url = await fresh_postgres_database("checkout")
    out = succeeded(
        run_bench(
            "checkout",
            "--url",
            url,
            "--buyers",
            "4",
            "--products",
            "40",
            "--hot",
            "5",
            "--seconds",
            "0.3",
            "--rounds",
            "3",
            "--data-dir",
            str(tmp_path),
        )
    )
    assert "via services" in out and "via graphql" in out
    assert out.count("oversells          0") == 2
    assert "graphql over HTTP / services, per round:" in out
