"""`make loadtest`: a day in the shop (bench/loadtest/locustfile.py) against `shop serve
--workers N` in prod mode on PostgreSQL + Redis, the load generator in Locust processes of
its own (`--processes`).

The server runs as operators run it: ENV=prod, OPERATIONS=trusted (every request is a
persisted id: the client's manifest plus bench/loadtest/documents.py's), tokens verified
with CLERK_JWT_KEY (a key pair made for the run; tokens shaped like Clerk's), the event bus
and the rate-limit counters on Redis, the prod rate limits.

For each worker count (`--workers 1,2`), in `--rounds` rounds alternating between them,
the server is started, Locust runs `--users` users for `--seconds` (stats reset once all
users are spawned), and the server is stopped. Printed per operation and worker count:
throughput, p50/p99 and errors (median over rounds), the failures by message, and the
throughput ratio 2 workers / 1 worker per round. Then a profile (py-spy, `--profile-seconds`)
of one worker serving the hottest query of the mix (the most total server time: count x
mean latency) alone, with its top frames. `--compare-loop` also measures one worker with
uvloop + httptools (the default) against asyncio + h11, in alternating rounds.

    make loadtest                                        # or:
    .venv/bin/python -m bench.loadtest.run --users 150 --seconds 60 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from contextlib import contextmanager
from pathlib import Path

from bench.loadgen import build_request, run_load
from bench.loadtest.documents import CLIENT_MANIFEST, IDS, write_own_manifest
from bench.rounds import Spread, add_rounds_argument, check_rounds, ratio
from tests.support.live_server import ROOT, live_process

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/shopgraph_bench_loadtest"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
SHOPPERS = 500
LOCUST = Path(sys.executable).with_name("locust")
PY_SPY = Path(sys.executable).with_name("py-spy")


def prepare(args, data_dir: Path) -> dict[str, str]:
    """Seed the database (once), make the key pair and tokens; returns the server's env."""
    from bench.scenario_data import prepare_database
    from services.tokens import DevIssuer

    asyncio.run(prepare_database(args.database_url, args.products))
    issuer = DevIssuer(data_dir / "keys", issuer="https://clerk.loadtest.example")
    tokens = {
        "shoppers": [
            issuer.issue(
                f"user_load_{i}", ttl=24 * 3600, email=f"load{i}@example.com", name=f"Load {i}"
            )
            for i in range(SHOPPERS)
        ],
        "admin": issuer.issue(
            "user_load_admin", ttl=24 * 3600, admin=True, email="load-admin@example.com"
        ),
    }
    (data_dir / "tokens.json").write_text(json.dumps(tokens))
    own = write_own_manifest(data_dir / "loadtest-documents.json")
    return {
        "ENV": "prod",
        "DATABASE_URL": args.database_url,
        "BROADCAST_URL": args.redis_url,
        # Pub/sub channels are global to a Redis server: keep this run's apart.
        "EVENT_NAMESPACE": f"bench-loadtest-{os.getpid()}",
        "CLERK_JWT_KEY": issuer.public_pem,
        "CLERK_ISSUER": "https://clerk.loadtest.example",
        "PERSISTED_DOCUMENTS_FILES": f"{CLIENT_MANIFEST},{own}",
        "MIGRATE_ON_START": "false",
        "SEED_ON_START": "false",
        "DATA_DIR": str(data_dir),
        "LOG_LEVEL": "WARNING",
        "PROMETHEUS_MULTIPROC_DIR": str(data_dir / "metrics"),
        # The load generator stands for the proxy in front of many shoppers' addresses.
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
    }


@contextmanager
def server(env: dict[str, str], workers: int, extra: tuple[str, ...] = ()):
    Path(env["PROMETHEUS_MULTIPROC_DIR"]).mkdir(exist_ok=True)
    with live_process(env, shop_serve=True, args=("--workers", str(workers), *extra),
                      startup_timeout=180) as (base, process):  # fmt: skip
        yield base, process


def locust(base: str, args, data_dir: Path, label: str) -> dict:
    """One headless Locust run; returns its per-operation stats and failures."""
    prefix = data_dir / f"locust-{label}"
    command = [
        str(LOCUST), "-f", str(ROOT / "bench/loadtest/locustfile.py"), "--headless",
        "--host", base, "-u", str(args.users), "-r", str(args.spawn_rate),
        "-t", f"{args.seconds}s", "--processes", str(args.processes), "--csv", str(prefix),
        "--only-summary", "--reset-stats", "--stop-timeout", "10", "--loglevel", "WARNING",
    ]  # fmt: skip
    env = {**os.environ, "LOADTEST_TOKENS": str(data_dir / "tokens.json"),
           "LOADTEST_PROCESSES": str(args.processes), "PYTHONPATH": str(ROOT)}  # fmt: skip
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True,
                          check=False, timeout=args.seconds + 300)  # fmt: skip
    stats_file = Path(f"{prefix}_stats.csv")
    if not stats_file.exists():
        raise SystemExit(f"locust produced no stats:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    stats = {}
    with stats_file.open() as f:
        for row in csv.DictReader(f):
            stats[row["Name"]] = {
                "count": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "rps": float(row["Requests/s"]),
                "p50": float(row["50%"] or "nan"),
                "p99": float(row["99%"] or "nan"),
                "mean": float(row["Average Response Time"] or "nan"),
            }
    failures: Counter[str] = Counter()
    with Path(f"{prefix}_failures.csv").open() as f:
        for row in csv.DictReader(f):
            failures[f"{row['Name']}: {row['Error']}"] += int(row["Occurrences"])
    return {"stats": stats, "failures": failures}


def summarise(runs: list[dict]) -> dict[str, dict]:
    """Per operation: medians over rounds; errors summed."""
    names = {name for run in runs for name in run["stats"]}
    out = {}
    for name in names:
        rows = [run["stats"][name] for run in runs if name in run["stats"]]
        out[name] = {
            "rps": statistics.median(r["rps"] for r in rows),
            "p50": statistics.median(r["p50"] for r in rows),
            "p99": statistics.median(r["p99"] for r in rows),
            "count": sum(r["count"] for r in rows),
            "failures": sum(r["failures"] for r in rows),
            "time": statistics.median(r["count"] * r["mean"] for r in rows),
        }
    return out


def table(title: str, summary: dict[str, dict]) -> list[str]:
    lines = [title, f"  {'operation':44} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
                    f"{'requests':>9} {'errors':>7}"]  # fmt: skip
    for name in sorted(summary, key=lambda n: (n == "Aggregated", n)):
        s = summary[name]
        lines.append(f"  {name:44} {s['rps']:7.1f} {s['p50']:7.0f} {s['p99']:7.0f} "
                     f"{s['count']:9d} {s['failures']:7d}")  # fmt: skip
    return lines


# Queries the profile can replay alone (mutations need state): operation -> (id, variables).
REPLAYABLE = {
    "Catalog: browse": ("Catalog", {"first": 20}, False),
    "Catalog: search": ("Catalog", {"first": 20, "filter": {"search": "lamp"}}, False),
    "Catalog: category facet": (
        "Catalog",
        {"first": 20, "filter": {"category": ["Home"]}},
        False,
    ),
    "Recommendations: home": (
        "Recommendations",
        {"first": 10, "context": {"page": "home"}},
        True,
    ),
    "Me": ("Me", {}, True),
    "Cart": ("Cart", {}, True),
}


def profile_hottest(env, summary: dict[str, dict], args, data_dir: Path) -> list[str]:
    ranked = sorted((s["time"], name) for name, s in summary.items() if name in REPLAYABLE)
    if not ranked:
        return ["profile: no replayable query in the mix"]
    hottest = ranked[-1][1]
    operation, variables, signed_in = REPLAYABLE[hottest]
    token = json.loads((data_dir / "tokens.json").read_text())["shoppers"][0]
    headers = {"content-type": "application/json"}
    if signed_in:
        headers["authorization"] = f"Bearer {token}"
    body = json.dumps({"documentId": IDS[operation], "variables": variables}).encode()
    request = build_request("http://127.0.0.1/graphql", method="POST", body=body,
                            headers=headers)  # fmt: skip
    raw = data_dir / "py-spy.txt"
    # The cache off: in the mix every checkout and stock change empties it, so the path that
    # costs is the miss; replayed alone, one request would be a hit every time.
    with server({**env, "RESPONSE_CACHE": "false"}, 1) as (base, process):
        spy = subprocess.Popen(
            [str(PY_SPY), "record", "--pid", str(process.pid), "--duration",
             str(args.profile_seconds), "--format", "raw", "--output", str(raw), "--nonblocking"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        result = asyncio.run(run_load(f"{base}/graphql", request, concurrency=8,
                                      seconds=args.profile_seconds + 2, warmup=0.5))  # fmt: skip
        spy.wait(timeout=120)
    if not raw.exists():
        return [f"profile: py-spy failed: {spy.stderr.read()[-500:]}"]
    own, total = top_frames(raw)
    samples = sum(own.values())
    lines = [f"\nprofile of the hottest query, {hottest} ({summary[hottest]['time'] / 1000:.0f} s "
             f"of server time per round in the mix), replayed alone against 1 worker: "
             f"{result.rps:.0f} req/s, {result.errors} errors; py-spy, {samples} samples",
             "  top frames by own time:"]  # fmt: skip
    for frame, n in own.most_common(15):
        lines.append(f"    {n / samples:6.1%}  {frame}")
    lines.append("  top functions by time including callees (plumbing left out):")
    for frame, n in total.most_common(20):
        lines.append(f"    {n / samples:6.1%}  {frame}")
    return lines


FRAME = re.compile(r"^(?P<function>.*) \((?P<path>.*?)(?::\d+)?\)$")
PLUMBING = ("asyncio/", "uvicorn/", "starlette/", "runpy", "cli/main.py", "web/request_id.py",
            "web/body_limit.py", "threading.py")  # fmt: skip


def top_frames(raw: Path) -> tuple[Counter[str], Counter[str]]:
    """py-spy's raw (collapsed) stacks -> samples by leaf frame, and by any frame that is
    not the server's plumbing (event loop, uvicorn, Starlette, our middlewares)."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        frames = []
        for text in stack.split(";"):
            match = FRAME.match(text)
            function, path = (match["function"], match["path"]) if match else (text, "")
            path = path.split("site-packages/")[-1].split("/lib/python3.11/")[-1]
            frames.append((f"{function} ({path})", path))
        own[frames[-1][0]] += int(count)
        for frame, path in set(frames):
            if not any(part in path for part in PLUMBING):
                total[frame] += int(count)
    return own, total


def run(args) -> int:
    data_dir = Path(tempfile.mkdtemp(prefix="shopgraph-loadtest-"))
    env = prepare(args, data_dir)
    workers = [int(w) for w in args.workers.split(",")]
    configs = [(f"{w} worker{'s' * (w > 1)}", w, ()) for w in workers]
    if args.compare_loop:
        configs.append(("1 worker, asyncio + h11", 1, ("--loop", "asyncio", "--http", "h11")))
    runs: dict[str, list[dict]] = defaultdict(list)
    print(f"load test: {args.users} users ({args.processes} Locust processes), "
          f"{args.seconds} s per run, {args.rounds} alternating rounds; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores, shared with "
          "other work", flush=True)  # fmt: skip
    for index in range(args.rounds):
        order = configs if index % 2 == 0 else configs[::-1]
        for label, count, extra in order:
            with server(env, count, extra) as (base, _process):
                runs[label].append(locust(base, args, data_dir, f"{index}-{count}-{len(extra)}"))
            print(
                f"  round {index + 1}: {label}: "
                f"{runs[label][-1]['stats']['Aggregated']['rps']:.0f} req/s",
                flush=True,
            )
    lines = []
    summaries = {label: summarise(r) for label, r in runs.items()}
    for label, summary in summaries.items():
        lines += ["", *table(f"{label} (medians over {args.rounds} rounds):", summary)]
        failures = sum((run["failures"] for run in runs[label]), Counter())
        for message, n in failures.most_common(8):
            lines.append(f"    failure x{n}: {message[:110]}")
    total = {label: [r["stats"]["Aggregated"]["rps"] for r in rs] for label, rs in runs.items()}
    labels = [c[0] for c in configs]
    lines.append("\nthroughput, all operations (median, min-max over rounds):")
    for label in labels:
        lines.append(f"  {label:26} {Spread.of(total[label]).format()} req/s")
    if len(workers) > 1:
        lines.append(f"  scaling {labels[1]} / {labels[0]}, per round: "
                     f"{ratio(total[labels[1]], total[labels[0]]).format(2)}")  # fmt: skip
    if args.compare_loop:
        lines.append(f"  uvloop + httptools / asyncio + h11 (1 worker), per round: "
                     f"{ratio(total[labels[0]], total[labels[-1]]).format(2)}")  # fmt: skip
    print("\n".join(lines), flush=True)
    if args.profile_seconds:
        print("\n".join(profile_hottest(env, summaries[labels[0]], args, data_dir)))
    print(f"\n(Locust CSVs and the server logs are in {data_dir})")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    database = os.environ.get("BENCH_LOADTEST_DATABASE_URL", DEFAULT_URL)
    parser.add_argument("--database-url", default=database)
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS))
    parser.add_argument("--products", type=int, default=500)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--users", type=int, default=150)
    parser.add_argument("--spawn-rate", type=float, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--processes", type=int, default=2, help="Locust processes")
    parser.add_argument("--profile-seconds", type=int, default=15, help="0: no profile")
    parser.add_argument("--compare-loop", action="store_true",
                        help="also 1 worker on asyncio + h11 (vs uvloop + httptools)")  # fmt: skip
    add_rounds_argument(parser)
    args = parser.parse_args()
    check_rounds(parser, args)
    raise SystemExit(run(args))


if __name__ == "__main__":
    main()
