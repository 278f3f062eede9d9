"""The decision service with real processes on PostgreSQL + Redis: kill -9 the learner while
rewards stream in; another process takes over, serving never stops, and every reward is
learned exactly once, in order (checked against a model learned from scratch).

Both ways of running the learner: `LEARNER_MODE=dedicated` with two `shop learner`
processes (one a hot standby) and one server; `LEARNER_MODE=elected` with two servers, one
of which learns. Each test prints its measured takeover times.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack, contextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.support.live_server import ROOT, free_port, live_process
from tests.support.services import fresh_postgres_database

pytestmark = pytest.mark.redis

SLATE = """query($s: String!) { recommendations(first: 3, context: {sessionId: $s, page: "home"}) {
  eventId items { product { id } } } }"""
RECORD = """mutation($p: ID!, $e: ID!, $s: String!, $a: ReportedAction!) {
  recordInteraction(input: {productId: $p, action: $a, eventId: $e, sessionId: $s}) {
    userErrors { code } } }"""
REWARDS = 180
RATE = 50.0  # rewards per second


def _env(tmp_path: Path, database_url: str, redis_url: str, mode: str) -> dict[str, str]:
    return {
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": database_url,
        "BROADCAST_URL": redis_url,
        "EVENT_NAMESPACE": f"ds-{uuid.uuid4().hex[:8]}",
        "LEARNER_MODE": mode,
        "SNAPSHOT_INTERVAL_SECONDS": "0.2",
        "MODEL_REFRESH_SECONDS": "1",
        "LEARN_POLL_SECONDS": "0.5",
        "REWARD_WINDOW_SECONDS": "3600",
        "MIGRATE_ON_START": "false",
        "SEED_ON_START": "false",
        "LOG_LEVEL": "INFO",
    }


@contextmanager
def _learner(env: dict[str, str], port: int):
    log = Path(env["DATA_DIR"]) / f"learner-{port}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "learner", "--metrics-port", str(port)],
            cwd=ROOT, env={**os.environ, "ENV": "test", **env},
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()


def _metric(base: str, name: str) -> float | None:
    try:
        text = httpx.get(f"{base}/metrics", timeout=2).text
    except httpx.HTTPError:
        return None
    values = [
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name) and not line.startswith("#")
    ]
    return sum(values) if values else None


async def _until(predicate, *, timeout: float, what: str) -> float:
    """Poll `predicate` (sync, run in a thread) until true; returns the seconds it took."""
    started = time.monotonic()
    while not await asyncio.to_thread(predicate):
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


class Stream:
    """Anonymous shoppers: a slate, then a tick or cross on one of its items, at RATE."""

    def __init__(self, targets: list[str]) -> None:
        self.targets = targets
        self.sent = 0
        self.errors: list[str] = []

    async def run(self, total: int) -> None:
        async with httpx.AsyncClient(timeout=10) as client:
            started = time.monotonic()
            for i in range(total):
                base = self.targets[i % len(self.targets)]
                await self._one(client, base, i)
                delay = started + (i + 1) / RATE - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)

    async def _one(self, client: httpx.AsyncClient, base: str, i: int) -> None:
        session = f"s-{i % 17}"
        try:
            slate = await client.post(
                f"{base}/graphql", json={"query": SLATE, "variables": {"s": session}}
            )
            data = slate.json()["data"]["recommendations"]
            product = data["items"][i % 3]["product"]["id"]
            record = await client.post(
                f"{base}/graphql",
                json={"query": RECORD, "variables": {
                    "p": product, "e": data["eventId"], "s": session,
                    "a": "TICK" if i % 3 else "CROSS"}},
            )  # fmt: skip
            body = record.json()
            if body.get("errors") or body["data"]["recordInteraction"]["userErrors"]:
                self.errors.append(json.dumps(body)[:300])
            else:
                self.sent += 1
        except (httpx.HTTPError, KeyError, TypeError, ValueError) as error:
            self.errors.append(f"{base}: {type(error).__name__}: {error}")


async def _newest_snapshot(url: str) -> dict | None:
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        row = await conn.fetchrow(
            "SELECT id, term, learned, skipped FROM recommendation_model_snapshots "
            "ORDER BY id DESC LIMIT 1"
        )
        rewards = await conn.fetchval("SELECT count(*) FROM recommendation_rewards")
    finally:
        await conn.close()
    return None if row is None else {**dict(row), "rewards": rewards}


def _audit(url: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "tests.ws.decision_service_probe", url],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


async def _settle_and_audit(url: str, stream: Stream, servers: list[str], *, terms: int) -> None:
    assert stream.errors == [], stream.errors[:5]
    assert stream.sent == REWARDS

    async def caught_up() -> bool:
        newest = await _newest_snapshot(url)
        return newest is not None and newest["learned"] == newest["rewards"] == REWARDS

    started = time.monotonic()
    while not await caught_up():
        assert time.monotonic() - started < 30, await _newest_snapshot(url)
        await asyncio.sleep(0.1)
    newest = await _newest_snapshot(url)
    assert newest["term"] >= terms and newest["skipped"] == 0
    for base in servers:  # every server ranks with the newest snapshot
        await _until(
            lambda b=base: _metric(b, "shopgraph_recommendation_snapshot_version") == newest["id"]
            or _metric(b, "shopgraph_recommendation_learner") == 1,
            timeout=10, what=f"{base} to load snapshot {newest['id']}",
        )  # fmt: skip
    audit = await asyncio.to_thread(_audit, url)
    assert audit["rewards"] == REWARDS
    assert audit["snapshot"]["learned"] == audit["reference"]["learned"] == REWARDS, audit
    assert audit["snapshot"]["digest"] == audit["reference"]["digest"], audit
    assert audit["snapshot"]["updates"] == audit["reference"]["updates"] == REWARDS, audit
    assert audit["max_probability_difference"] < 1e-6, audit


@pytest.fixture(scope="module")
async def seeded(redis_url, tmp_path_factory) -> str:
    """A migrated database with a 200-product catalog, copied by each test (CREATE DATABASE
    ... TEMPLATE: much faster than migrating and seeding again)."""
    url = await fresh_postgres_database("decision_template")
    env = _env(tmp_path_factory.mktemp("seed"), url, redis_url, "elected")
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "cli.main", "seed", "--products", "200"],
        cwd=ROOT, env={**os.environ, "ENV": "test", **env},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return url


async def test_a_dedicated_learner_killed_mid_stream_is_replaced_exactly(
    redis_url, seeded, tmp_path
):
    url = await fresh_postgres_database("failover_dedicated", template=seeded)
    env = _env(tmp_path, url, redis_url, "dedicated")
    ports = free_port(), free_port()
    with ExitStack() as stack:
        server, _ = stack.enter_context(live_process(env))
        first = stack.enter_context(_learner(env, ports[0]))
        first_metrics = f"http://127.0.0.1:{ports[0]}"
        await _until(lambda: _metric(first_metrics, "shopgraph_recommendation_learner") == 1,
                     timeout=30, what="the first learner to be elected")  # fmt: skip
        stack.enter_context(_learner(env, ports[1]))
        standby = f"http://127.0.0.1:{ports[1]}"
        await _until(lambda: _metric(standby, "shopgraph_recommendation_learner") == 0,
                     timeout=30, what="the standby to stand")  # fmt: skip
        assert _metric(server, "shopgraph_recommendation_learner") == 0  # ranking only

        stream = Stream([server])
        streaming = asyncio.create_task(stream.run(REWARDS))
        await _until(
            lambda: stream.sent >= REWARDS // 3 or stream.errors, timeout=30, what="a third"
        )
        assert stream.errors == [], stream.errors[:3]
        published = _metric(first_metrics, "shopgraph_recommendation_snapshots_published_total")
        assert published and published >= 1  # the first learner was mid-stream
        first.kill()  # SIGKILL: no last pass, no last snapshot
        elected = await _until(
            lambda: _metric(standby, "shopgraph_recommendation_learner") == 1,
            timeout=15, what="the standby to take over",
        )  # fmt: skip
        publishing = await _until(
            lambda: (_metric(standby, "shopgraph_recommendation_snapshots_published_total") or 0)
            >= 1,
            timeout=15, what="the new learner's first snapshot",
        )  # fmt: skip
        await streaming
        print(
            f"\ndedicated learner killed: standby elected after {elected:.2f} s, "
            f"first snapshot after {elected + publishing:.2f} s"
        )
        assert elected < 5
        await _settle_and_audit(url, stream, [server], terms=2)
        # The serving process never learned: it only loaded snapshots.
        learned_here = 'shopgraph_recommendation_model_cpu_seconds_total{work="learn"}'
        assert _metric(server, learned_here) in (None, 0.0)


async def test_an_elected_serving_learner_killed_mid_stream_is_replaced_exactly(
    redis_url, seeded, tmp_path
):
    url = await fresh_postgres_database("failover_elected", template=seeded)
    env = _env(tmp_path, url, redis_url, "elected")
    with ExitStack() as stack:
        a, process_a = stack.enter_context(live_process(env))
        b, process_b = stack.enter_context(live_process(env))
        roles = {base: _metric(base, "shopgraph_recommendation_learner") for base in (a, b)}
        assert sorted(roles.values()) == [0, 1], roles  # one learner, elected at start
        victim, survivor = (a, b) if roles[a] == 1 else (b, a)
        victim_process = process_a if victim == a else process_b

        stream = Stream([a, b])
        streaming = asyncio.create_task(stream.run(REWARDS))
        await _until(
            lambda: stream.sent >= REWARDS // 3 or stream.errors, timeout=30, what="a third"
        )
        assert stream.errors == [], stream.errors[:3]
        stream.targets[:] = [survivor]  # the load balancer drops the victim ...
        await asyncio.sleep(0.2)  # ... and its requests in flight finish
        victim_process.kill()
        elected = await _until(
            lambda: _metric(survivor, "shopgraph_recommendation_learner") == 1,
            timeout=15, what="the survivor to take over",
        )  # fmt: skip
        await streaming
        print(f"\nelected learner killed: the other server learns after {elected:.2f} s")
        assert elected < 5
        await _settle_and_audit(url, stream, [survivor], terms=2)
