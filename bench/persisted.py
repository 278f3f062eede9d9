"""Persisted documents vs full documents: the same operation, the same server, the same run.

One shopgraph server (one uvicorn worker on PostgreSQL with the demo catalog, response
cache off so every request executes, OPERATIONS=any so it accepts every form) serves each
of the reference client's operations below in three forms, in turn, for `--rounds` rounds.
(On SQLite the single database connection, not the server's CPU, bounds throughput, which
hides what parsing and validation cost.)

  full       POST {"query": "<the document>", "variables": ...}   (the baseline)
  persisted  POST {"documentId": "sha256:<hex>", "variables": ...}
  uncached   the full document, each request followed by a different `# comment`: the
             same operation, but a text the server's caches have not seen

The baseline `full` is the strongest full-document path there is: the server keeps parsed
documents and validation results in LRU caches keyed by the text, so the same document
sent again is neither parsed nor validated either; what it still pays is reading and
decoding the longer body, hashing the text for those cache lookups and the lookups
themselves. A persisted request is found by id and its prepared AST is used as is.
`uncached` is what a full document costs when it misses those caches (first seen, or
evicted by other documents: they hold 1,024). All forms must answer the same data, or the
benchmark fails.

It also times, in this process, parsing and validating the document from scratch against
finding the prepared document by hash.

    make bench-persisted          # or: .venv/bin/python -m bench.persisted --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.loadgen import build_request, fetch_once, run_load
from bench.rounds import (
    DifferentData,
    EmptyRound,
    add_rounds_argument,
    check_rounds,
    exit_on_different_data,
    order,
    require_same,
)
from bench.scenario_data import create_database
from core.settings import REFERENCE_CLIENT_MANIFEST, Settings
from services.documents import read_manifest
from tests.support.live_server import live_server

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/shopgraph_bench_persisted"
# The reference client's operations (client/persisted-documents.json), with variables.
OPERATIONS = {
    "Catalog": {"first": 20},
    "Me": {},
}


def client_documents() -> dict[str, tuple[str, str]]:
    """Operation name -> (hash, document) from the reference client's manifest."""
    documents = {}
    for digest, text in read_manifest(REFERENCE_CLIENT_MANIFEST.read_text()).items():
        for name in OPERATIONS:
            if f"query {name}(" in text or f"query {name} " in text:
                documents[name] = (digest, text)
    missing = set(OPERATIONS) - set(documents)
    if missing:
        raise SystemExit(f"not in the client's manifest: {sorted(missing)}")
    return documents


async def prepare_database(url: str) -> None:
    """A fresh database of the benchmark's own (the server migrates and seeds it)."""
    await create_database(url, fresh=True)


def post(body: dict) -> bytes:
    return build_request(
        "http://127.0.0.1/graphql",
        method="POST",
        body=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )


async def same_data(base: str, requests: dict[str, bytes]) -> None:
    answers = {}
    for form, request in requests.items():
        status, payload = await fetch_once(f"{base}/graphql", request)
        body = json.loads(payload)
        if status != 200 or "errors" in body:
            raise DifferentData(f"{form}: {status} {payload[:300]!r}")
        answers[form] = body["data"]
    require_same(answers, "full vs persisted vs uncached")


FORMS = ("full", "persisted", "uncached")
VARIANTS = 5000  # distinct texts per `uncached` run: far more than the caches hold


async def measure_http(base: str, name: str, variables: dict, documents, args) -> dict:
    digest, text = documents[name]
    requests: dict[str, bytes | list[bytes]] = {
        "full": post({"query": text, "variables": variables}),
        "persisted": post({"documentId": f"sha256:{digest}", "variables": variables}),
        "uncached": [
            post({"query": f"{text}\n# {i}", "variables": variables}) for i in range(VARIANTS)
        ],
    }
    await same_data(
        base, {form: r if isinstance(r, bytes) else r[0] for form, r in requests.items()}
    )
    rounds = []
    for index in range(args.rounds):
        figures = {}
        for form in order(FORMS, index):
            result = await run_load(
                f"{base}/graphql", requests[form], concurrency=args.concurrency,
                seconds=args.seconds, warmup=0.5,
            )  # fmt: skip
            if result.errors:
                raise SystemExit(f"{name} {form}: {result.errors} errors")
            if not result.requests:
                raise EmptyRound(
                    f"{name} {form}: no request completed in round {index + 1} "
                    "(a window too short for the machine's load: raise --seconds)"
                )
            figures[form] = result.rps
        rounds.append(figures)
    return {
        "name": name,
        "bytes": {form: len(r if isinstance(r, bytes) else r[0]) for form, r in requests.items()},
        "rounds": rounds,
    }


def measure_preparation(documents, repeat: int = 300) -> dict[str, tuple[float, float]]:
    """Microseconds per request: parse + validate from scratch vs the prepared lookup."""
    from graphql import parse

    from schema import build_schema
    from schema.validation import validate_document

    schema = build_schema(Settings(env="test", persisted_documents_files=[]))
    registry = schema.documents
    rules = registry.rules
    out = {}
    for name, (digest, text) in documents.items():
        registry.trust(text, source="bench")
        started = time.perf_counter()
        for _ in range(repeat):
            document = parse(text, max_tokens=registry.max_tokens)
            validate_document(schema._schema, document, rules, False)
        scratch = (time.perf_counter() - started) / repeat * 1e6
        started = time.perf_counter()
        for _ in range(repeat * 100):
            registry.get(digest)
        lookup = (time.perf_counter() - started) / (repeat * 100) * 1e6
        out[name] = (scratch, lookup)
    return out


async def run(args) -> None:
    documents = client_documents()
    await prepare_database(args.database_url)
    env = {
        "ENV": "test",
        "OPERATIONS": "any",
        "RESPONSE_CACHE": "false",
        "DATA_DIR": tempfile.mkdtemp(prefix="shopgraph-bench-persisted-"),
        "DATABASE_URL": args.database_url,
        "MIGRATE_ON_START": "true",
        "SEED_ON_START": "true",
        "LOG_LEVEL": "WARNING",
    }
    results = []
    with live_server(env, startup_timeout=120) as base:
        for name, variables in OPERATIONS.items():
            results.append(await measure_http(base, name, variables, documents, args))
    preparation = measure_preparation(documents)

    print(f"\nfull document vs persisted id, the reference client's operations; one uvicorn "
          f"worker, PostgreSQL, demo catalog, response cache off, {args.concurrency} "
          f"connections, {args.seconds:.0f} s per measurement, {args.rounds} alternating "
          "rounds\n")  # fmt: skip
    for result in results:
        sizes = result["bytes"]
        print(f"{result['name']}: {sizes['full']} request bytes full, {sizes['persisted']} "
              "persisted")  # fmt: skip
        print(f"  {'round':>6} {'full':>8} {'persisted':>10} {'uncached':>9}"
              f"   {'persisted/full':>14} {'persisted/uncached':>18}   (req/s)")  # fmt: skip
        ratios: dict[str, list[float]] = {"full": [], "uncached": []}
        for index, figures in enumerate(result["rounds"], 1):
            for base_form in ratios:
                ratios[base_form].append(figures["persisted"] / figures[base_form])
            print(f"  {index:>6} {figures['full']:8.0f} {figures['persisted']:10.0f} "
                  f"{figures['uncached']:9.0f}   {ratios['full'][-1]:14.3f} "
                  f"{ratios['uncached'][-1]:18.3f}")  # fmt: skip
        medians = {f: statistics.median(r[f] for r in result["rounds"]) for f in FORMS}
        print(f"  {'median':>6} {medians['full']:8.0f} {medians['persisted']:10.0f} "
              f"{medians['uncached']:9.0f}   {statistics.median(ratios['full']):14.3f} "
              f"{statistics.median(ratios['uncached']):18.3f}")  # fmt: skip
        print(f"  persisted/full per round: {min(ratios['full']):.3f}-{max(ratios['full']):.3f}\n")
    print("in-process, per request: parse + validate from scratch vs prepared lookup by hash")
    for name, (scratch, lookup) in preparation.items():
        print(f"  {name:10} {scratch:8.0f} us vs {lookup:6.2f} us")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_PERSISTED_DATABASE_URL", DEFAULT_URL)
    )
    parser.add_argument("--seconds", type=float, default=5.0)
    add_rounds_argument(parser)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    check_rounds(parser, args)
    if not REFERENCE_CLIENT_MANIFEST.exists():
        sys.exit(f"{Path(REFERENCE_CLIENT_MANIFEST)} is missing")
    exit_on_different_data(lambda: asyncio.run(run(args)))


if __name__ == "__main__":
    main()
