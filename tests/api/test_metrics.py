"""`/metrics`: operations, latency, errors by code, bounded labels, optional bearer token."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from core.metrics import record_learned_example, record_recommendation_decision
from schema import observability
from tests.support.apps import client_for, prod_overrides
from tests.support.graphql import gql


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def operations(operation: str, kind: str) -> float:
    return sample("shopgraph_graphql_operations_total", operation=operation, type=kind)


def errors(code: str) -> float:
    return sample("shopgraph_errors_total", code=code)


async def test_named_operations_are_counted_and_timed(client, db):
    before = operations("MetricsProbe", "query")
    timed = sample(
        "shopgraph_graphql_operation_duration_seconds_count", operation="MetricsProbe", type="query"
    )
    await gql(client, "query MetricsProbe { __typename }")
    await gql(client, "query MetricsProbe { __typename }")
    assert operations("MetricsProbe", "query") - before == 2
    assert (
        sample(
            "shopgraph_graphql_operation_duration_seconds_count",
            operation="MetricsProbe",
            type="query",
        )
        - timed
        == 2
    )
    text = (await client.get("/metrics")).text
    assert 'shopgraph_graphql_operations_total{operation="MetricsProbe",type="query"}' in text


async def test_unnamed_unparsed_and_unrun_operations_are_bucketed(client, db):
    anonymous, unknown = operations("anonymous", "query"), operations("anonymous", "unknown")
    other = operations("other", "query")
    await gql(client, "{ __typename }")
    await gql(client, "query Broken {")  # does not parse: neither name nor type is known
    await gql(client, "query NeverRan { nope }")  # fails validation: its name is not kept
    assert operations("anonymous", "query") - anonymous == 1
    assert operations("anonymous", "unknown") - unknown == 1
    assert operations("other", "query") - other == 1
    assert operations("NeverRan", "query") == 0


async def test_the_number_of_operation_names_is_bounded(client, db, monkeypatch):
    monkeypatch.setattr(observability, "MAX_OPERATION_NAMES", len(observability._known_names))
    other = operations("other", "query")
    await gql(client, "query OneNameTooMany { __typename }")
    assert operations("OneNameTooMany", "query") == 0
    assert operations("other", "query") - other == 1


async def test_errors_are_counted_by_code(client, db):
    validation, too_large = errors("GRAPHQL_VALIDATION_FAILED"), errors("PAYLOAD_TOO_LARGE")
    bad_request = errors("BAD_REQUEST")
    await gql(client, "{ nope }")
    await client.post("/graphql", json={"query": "{ __typename }" + " " * 200_000})
    await client.post("/graphql", content=b"{", headers={"content-type": "application/json"})
    assert errors("GRAPHQL_VALIDATION_FAILED") - validation == 1
    assert errors("PAYLOAD_TOO_LARGE") - too_large == 1
    assert errors("BAD_REQUEST") - bad_request == 1


async def test_mutations_are_labelled_as_such(client, alice):
    before = operations("Rename", "mutation")
    await gql(
        client, 'mutation Rename { updateMe(input: {name: "M"}) { user { name } } }', token=alice
    )
    assert operations("Rename", "mutation") - before == 1


async def test_recommendation_metrics_are_there_for_the_engine(client, db):
    decisions = sample("shopgraph_recommendation_decisions_total")
    examples = sample("shopgraph_recommendation_learned_examples_total")
    reward_sum = sample("shopgraph_recommendation_reward_sum")
    record_recommendation_decision()
    record_learned_example(2.0)
    record_learned_example(-1.0)
    assert sample("shopgraph_recommendation_decisions_total") - decisions == 1
    assert sample("shopgraph_recommendation_learned_examples_total") - examples == 2
    assert sample("shopgraph_recommendation_reward_sum") - reward_sum == pytest.approx(1.0)
    text = (await client.get("/metrics")).text
    for name in (
        "shopgraph_recommendation_mean_reward",
        "shopgraph_live_publish_failures_total",
        "shopgraph_websocket_connections",
        "shopgraph_graphql_subscriptions_active",
    ):
        assert f"# TYPE {name}" in text


async def test_metrics_are_open_without_a_token_outside_prod(client, db):
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")


async def test_metrics_token_is_required_when_set(settings, db):
    async with client_for(settings, metrics_token="s3cret-scrape-token") as client:
        missing = await client.get("/metrics")
        assert missing.status_code == 401
        assert missing.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        wrong = await client.get("/metrics", headers={"authorization": "Bearer nope"})
        assert wrong.status_code == 401
        right = await client.get(
            "/metrics", headers={"authorization": "Bearer s3cret-scrape-token"}
        )
        assert right.status_code == 200
        assert "shopgraph_graphql_operations_total" in right.text


async def test_prod_serves_no_metrics_without_a_token(settings, db):
    """Regression: in prod /metrics was public whenever METRICS_TOKEN was unset."""
    async with client_for(settings, **prod_overrides()) as client:
        response = await client.get("/metrics")
        assert response.status_code == 404
        assert "shopgraph_" not in response.text
    async with client_for(settings, **prod_overrides(), metrics_token="scrape") as client:
        assert (await client.get("/metrics")).status_code == 401
        scraped = await client.get("/metrics", headers={"authorization": "Bearer scrape"})
        assert scraped.status_code == 200


async def test_a_metrics_port_takes_metrics_off_the_api_port(settings, db):
    async with client_for(settings, metrics_port=9464) as client:
        assert (await client.get("/metrics")).status_code == 404
