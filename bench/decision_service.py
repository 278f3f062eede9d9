"""Decision-service benchmark: 1, 2 and 4 serving processes plus one learner, on PostgreSQL
+ Redis, while rewards stream in at a fixed rate.

For each number of serving processes (`LEARNER_MODE=dedicated`, one `shop learner`):

  learning on   rewards stream (a slate + a tick/cross by anonymous shoppers, spread over
                the servers) while a probe asks each server for `recommendations(first:
                10)` at a fixed rate; the learner learns and publishes a snapshot every
                `--snapshot-interval` seconds, the servers swap them in.
  learning off  the same traffic with the learner stopped: no snapshots, nothing to load.

Reported, from the same run:
  - learning CPU per serving process: the CPU its VW thread spent on learning work (snapshot
    loads; `learn` is 0 by design), from `shopgraph_recommendation_model_cpu_seconds_total`,
    as a share of one core, next to the learner's own learning CPU -- what every serving
    process spent when each learned every reward itself;
  - whole-process CPU per serving process, learning on vs off (noisier: includes requests);
  - snapshot propagation delay p50/p99: publication (the snapshot row's time) to the
    server ranking with it (the server's log line);
  - `recommendations` p50/p99 with learning on, and its ratio to learning off;
  - learner throughput: a fresh learner (the same code as `shop learner`, database reads
    included) over the whole reward log, against a raw Vowpal Wabbit loop
    (`Workspace.learn` of the very same example text) -- rewards/s and their ratio.

The machine is usually shared: read the ratios measured within one run, and re-run it on a
quiet machine for absolute figures.

    .venv/bin/python -m bench.decision_service [--servers 1,2,4] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import httpx

from bench.catalog import DEFAULT_URL, prepare_database
from tests.support.live_server import ROOT, free_port, live_process, log_path

SLATE = """query($s: String!) { recommendations(first: 3, context: {sessionId: $s, page: "home"}) {
  eventId items { product { id } } } }"""
RECORD = """mutation($p: ID!, $e: ID!, $s: String!, $a: ReportedAction!) {
  recordInteraction(input: {productId: $p, action: $a, eventId: $e, sessionId: $s}) {
    userErrors { code } } }"""
PROBE = """query { recommendations(first: 10, context: {page: "home", device: "mobile"}) {
  eventId items { probability product { id name } } } }"""
SWAP = re.compile(r"ranking with model snapshot (\d+) \(\S+, ([\d.]+) ms after publication\)")
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def metric(text: str, name: str, labels: str = "") -> float:
    prefix = f"{name}{{{labels}}}" if labels else name
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(prefix) and not line.startswith("#")
    )


async def scrape(client: httpx.AsyncClient, base: str) -> str:
    return (await client.get(f"{base}/metrics")).text


def model_cpu(text: str, work: str) -> float:
    return metric(text, "shopgraph_recommendation_model_cpu_seconds_total", f'work="{work}"')


class Traffic:
    """Rewards at `reward_rate` over all servers, probes at `probe_rate` per server."""

    def __init__(self, servers: list[str], reward_rate: float, probe_rate: float) -> None:
        self.servers = servers
        self.reward_rate = reward_rate
        self.probe_rate = probe_rate
        self.latencies: list[float] = []
        self.rewards = 0
        self.errors = 0

    async def run(self, seconds: float) -> None:
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:
            deadline = time.monotonic() + seconds
            await asyncio.gather(
                self._rewards(client, deadline),
                *(self._probes(client, base, deadline) for base in self.servers),
            )

    async def _paced(self, rate: float, deadline: float, one) -> None:
        started, pending, n = time.monotonic(), set(), 0
        while time.monotonic() < deadline:
            task = asyncio.create_task(one(n))
            pending.add(task)
            task.add_done_callback(pending.discard)
            n += 1
            await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
        if pending:
            await asyncio.gather(*pending)

    async def _rewards(self, client: httpx.AsyncClient, deadline: float) -> None:
        async def one(n: int) -> None:
            base, session = self.servers[n % len(self.servers)], f"bench-{n % 97}"
            try:
                response = await client.post(
                    f"{base}/graphql", json={"query": SLATE, "variables": {"s": session}}
                )
                slate = response.json()["data"]["recommendations"]
                await client.post(
                    f"{base}/graphql",
                    json={"query": RECORD, "variables": {
                        "p": slate["items"][n % 3]["product"]["id"], "e": slate["eventId"],
                        "s": session, "a": "TICK" if n % 3 else "CROSS"}},
                )  # fmt: skip
                self.rewards += 1
            except (httpx.HTTPError, KeyError, TypeError, ValueError):
                self.errors += 1

        await self._paced(self.reward_rate, deadline, one)

    async def _probes(self, client: httpx.AsyncClient, base: str, deadline: float) -> None:
        async def one(_n: int) -> None:
            started = time.perf_counter()
            try:
                response = await client.post(f"{base}/graphql", json={"query": PROBE})
                assert len(response.json()["data"]["recommendations"]["items"]) == 10
                self.latencies.append((time.perf_counter() - started) * 1000)
            except (httpx.HTTPError, AssertionError, KeyError, TypeError, ValueError):
                self.errors += 1

        await self._paced(self.probe_rate, deadline, one)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    data = sorted(values)
    return data[min(len(data) - 1, int(q * len(data)))]


async def phase(servers, pids: dict[str, int], learner_pid, args) -> dict:
    async with httpx.AsyncClient(timeout=10) as client:
        before = {base: await scrape(client, base) for base in servers}
        cpu0 = {base: cpu_seconds(pids[base]) for base in servers}
        learner0 = cpu_seconds(learner_pid) if learner_pid else 0.0
        traffic = Traffic(servers, args.reward_rate, args.probe_rate)
        started = time.monotonic()
        await traffic.run(args.seconds)
        elapsed = time.monotonic() - started
        after = {base: await scrape(client, base) for base in servers}
    per_server = []
    for base in servers:
        load = model_cpu(after[base], "load") - model_cpu(before[base], "load")
        learn = model_cpu(after[base], "learn") - model_cpu(before[base], "learn")
        per_server.append(
            {
                "learning_cpu": (load + learn) / elapsed,
                "process_cpu": (cpu_seconds(pids[base]) - cpu0[base]) / elapsed,
            }
        )
    return {
        "elapsed": elapsed,
        "rewards": traffic.rewards,
        "errors": traffic.errors,
        "p50": percentile(traffic.latencies, 0.5),
        "p99": percentile(traffic.latencies, 0.99),
        "learning_cpu": statistics.fmean(s["learning_cpu"] for s in per_server),
        "process_cpu": statistics.fmean(s["process_cpu"] for s in per_server),
        "learner_cpu": (cpu_seconds(learner_pid) - learner0) / elapsed if learner_pid else 0.0,
    }


def propagation(env: dict[str, str], servers: list[str]) -> list[float]:
    delays = []
    for base in servers:
        for match in SWAP.finditer(log_path(env, base).read_text()):
            delays.append(float(match.group(2)))
    return delays


async def run_fleet(n: int, args, url: str) -> dict:
    await reset_log(url)
    data_dir = Path(tempfile.mkdtemp(prefix=f"shopgraph-bench-ds{n}-"))
    env = {
        "DATABASE_URL": url, "BROADCAST_URL": args.redis_url, "ENV": "test",
        "EVENT_NAMESPACE": f"bench-{uuid.uuid4().hex[:8]}", "DATA_DIR": str(data_dir),
        "LEARNER_MODE": "dedicated", "MIGRATE_ON_START": "false", "SEED_ON_START": "false",
        "SNAPSHOT_INTERVAL_SECONDS": str(args.snapshot_interval), "LOG_LEVEL": "INFO",
        "RATE_LIMIT_MUTATIONS": "0", "REWARD_WINDOW_SECONDS": "3600",
        "DATABASE_POOL_SIZE": "5",
    }  # fmt: skip
    with ExitStack() as stack:
        started = [
            stack.enter_context(live_process(env, args=("--no-access-log",))) for _ in range(n)
        ]
        servers = [base for base, _ in started]
        pids = {base: process.pid for base, process in started}
        log = (data_dir / "learner.log").open("w")
        learner = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "learner", "--metrics-port", str(free_port())],
            cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            warm = Traffic(servers, args.reward_rate, args.probe_rate)
            await warm.run(args.warmup)
            swaps_before = len(propagation(env, servers))
            on = await phase(servers, pids, learner.pid, args)
            delays = propagation(env, servers)[swaps_before:]
            learner.send_signal(signal.SIGTERM)
            learner.wait(timeout=30)
            off = await phase(servers, pids, None, args)
        finally:
            if learner.poll() is None:
                learner.kill()
            log.close()
    return {"servers": n, "on": on, "off": off, "delays": delays}


async def reset_log(url: str) -> None:
    from core.db import database
    from core.settings import Settings
    from models import LearnerTerm, ModelSnapshot, RecommendationEvent, RecommendationReward

    async with database(Settings(database_url=url, env="test"), migrate_first=False):
        await RecommendationReward.all().delete()
        await RecommendationEvent.all().delete()
        await ModelSnapshot.all().delete()
        await LearnerTerm.all().delete()


async def learner_throughput(url: str) -> dict:
    """A fresh learner over the whole reward log (the last run's) vs raw VW learning the
    very same example text."""
    from vowpalwabbit import Workspace

    from bandit.learner import BanditLearner
    from core.db import database
    from core.settings import Settings
    from models import RecommendationEvent, RecommendationReward
    from services.recommendations.candidates import CatalogIndexHolder, learner_views
    from services.recommendations.decisions import candidate_ids, rebuild
    from services.recommendations.learning import Learner
    from services.recommendations.model import VWThread
    from services.recommendations.snapshots import Position

    async with database(Settings(database_url=url, env="test"), migrate_first=False):
        catalog = CatalogIndexHolder()
        await catalog.load()
        thread = VWThread("bench-learn")
        learner = Learner(BanditLearner(), Position(), thread=thread, catalog=catalog)
        started = time.perf_counter()
        ours = await learner.learn_committed()
        ours_seconds = time.perf_counter() - started
        thread.close()

        # The same examples as VW text, built outside the timed loop.
        reference = BanditLearner()
        rows = await RecommendationReward.all().order_by("txid", "id")
        events = {
            e.id: e for e in await RecommendationEvent.filter(id__in={r.event_id for r in rows})
        }
        products = await learner_views(candidate_ids(events.values()), catalog.index)
        texts = []
        for row in rows:
            decision = rebuild(events[row.event_id], products)
            example = decision.slate.example_for(
                row.product_id, row.reward, context=decision.context,
                candidates=decision.candidates,
            )  # fmt: skip
            texts.append(reference.example_lines(example))
        workspace = Workspace(arg_list=reference.config.vw_args())
        started = time.perf_counter()
        for lines in texts:
            workspace.learn(lines)
        raw_seconds = time.perf_counter() - started
        workspace.finish()
        reference.close()
    return {
        "rewards": ours,
        "ours": ours / ours_seconds if ours_seconds else float("nan"),
        "raw": len(texts) / raw_seconds if raw_seconds else float("nan"),
    }


def report(fleets: list[dict], throughput: dict, args) -> None:
    print(
        f"\ndecision service: {args.reward_rate:.0f} rewards/s, {args.probe_rate:.0f} "
        f"probes/s per server, snapshots every {args.snapshot_interval:g} s, "
        f"{args.seconds:.0f} s per phase ({datetime.now():%Y-%m-%d %H:%M})\n"
    )
    print(
        f"{'servers':>7} {'learn CPU/server':>17} {'learner CPU':>12} {'server CPU on/off':>18} "
        f"{'propagation p50/p99 ms':>23} {'p99 on/off ms':>15} {'ratio':>6} {'errors':>6}"
    )
    for fleet in fleets:
        on, off, delays = fleet["on"], fleet["off"], fleet["delays"]
        print(
            f"{fleet['servers']:>7} {on['learning_cpu'] * 100:>16.2f}% "
            f"{on['learner_cpu'] * 100:>11.1f}% "
            f"{on['process_cpu'] * 100:>8.1f}% / {off['process_cpu'] * 100:>5.1f}% "
            f"{percentile(delays, 0.5):>11.1f} / {percentile(delays, 0.99):>8.1f} "
            f"{on['p99']:>7.1f} / {off['p99']:>5.1f} {on['p99'] / off['p99']:>6.2f} "
            f"{on['errors'] + off['errors']:>6}"
        )
    print(
        f"\nlearner: {throughput['ours']:.0f} rewards/s over {throughput['rewards']} rewards "
        f"(database reads and decision rebuilds included) vs raw VW Workspace.learn "
        f"{throughput['raw']:.0f}/s on the same examples: "
        f"ratio {throughput['ours'] / throughput['raw']:.2f}"
    )
    shares = [
        f["on"]["learning_cpu"] / f["on"]["learner_cpu"] for f in fleets if f["on"]["learner_cpu"]
    ]
    if shares:
        print(
            "learning CPU per serving process / the learner's: "
            + ", ".join(
                f"{f['servers']} servers {s:.3f}" for f, s in zip(fleets, shares, strict=False)
            )
        )


async def run(args) -> None:
    url = args.database_url
    await prepare_database(url, args.products)
    fleets = [await run_fleet(n, args, url) for n in args.servers]
    throughput = await learner_throughput(url)
    report(fleets, throughput, args)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument("--products", type=int, default=2_000)
    parser.add_argument(
        "--servers", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2, 4]
    )
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--reward-rate", type=float, default=20.0)
    parser.add_argument("--probe-rate", type=float, default=10.0)
    parser.add_argument("--snapshot-interval", type=float, default=5.0)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
