import pytest

from tests.bench.conftest import run_bench, succeeded

# Real servers and databases: tens of seconds, though nothing is timed.
pytestmark = pytest.mark.slow


def test_cpu_per_request_for_every_app_after_they_answer_the_same(read_database):
    out = succeeded(
        run_bench(
            "profile_request",
            "--database-url",
            read_database,
            "--scenario",
            "order",
            "--requests",
            "5",
            "--rounds",
            "3",
            "--profile",
        )
    )
    for app in ("(a) hand-written", "(b) bare graphql-core", "shopgraph compiled",
                "shopgraph reference"):  # fmt: skip
        assert app in out
    assert "tottime" in out  # the profile
