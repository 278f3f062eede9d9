import pytest

from tests.bench.conftest import run_bench, succeeded
from tests.support.services import fresh_postgres_database

# Real servers and databases: tens of seconds, though nothing is timed.
pytestmark = pytest.mark.slow


async def test_full_document_vs_persisted_id():
    url = await fresh_postgres_database("persisted")
    out = succeeded(
        run_bench(
            "persisted",
            "--database-url",
            url,
            "--seconds",
            "0.2",
            "--rounds",
            "3",
            "--concurrency",
            "2",
        )
    )
    assert "persisted/full per round" in out
