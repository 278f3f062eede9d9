"""`shop serve` as operators run it: the metrics listener and the trusted proxies."""

from __future__ import annotations

import httpx

from tests.support.live_server import free_port, live_process

UPDATE = 'mutation { updateMe(input: {name: "x"}) { user { id } } }'


def _env(tmp_path, **extra: str) -> dict[str, str]:
    return {"DATA_DIR": str(tmp_path), "MIGRATE_ON_START": "true", **extra}


def test_metrics_port_serves_metrics_apart_from_the_api(tmp_path):
    metrics_port = free_port()
    env = _env(tmp_path, METRICS_PORT=str(metrics_port))
    with live_process(env, shop_serve=True) as (base, _process):
        assert httpx.get(f"{base}/metrics").status_code == 404
        httpx.post(f"{base}/graphql", json={"query": "{ __typename }"})
        scraped = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics")
        assert scraped.status_code == 200
        assert "shopgraph_graphql_operations_total" in scraped.text


def _limited_by_forwarded_for(base: str) -> list[int]:
    """Two anonymous mutations claiming two client IPs, with a limit of one per IP."""
    return [
        httpx.post(
            f"{base}/graphql", json={"query": UPDATE}, headers={"x-forwarded-for": ip}
        ).status_code
        for ip in ("203.0.113.1", "203.0.113.2")
    ]


def test_forwarded_for_is_believed_only_from_trusted_proxies(tmp_path):
    limit = {"RATE_LIMIT_MUTATIONS": "1"}
    # The test client is 127.0.0.1: trusted by default, so each claimed IP has its own budget.
    with live_process(_env(tmp_path / "a", **limit), shop_serve=True) as (base, _process):
        assert _limited_by_forwarded_for(base) == [200, 200]
    # Not a trusted proxy: the header is ignored, both requests are 127.0.0.1's.
    env = _env(tmp_path / "b", FORWARDED_ALLOW_IPS="192.0.2.10", **limit)
    with live_process(env, shop_serve=True) as (base, _process):
        assert _limited_by_forwarded_for(base) == [200, 429]
