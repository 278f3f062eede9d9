"""`shop bandit ...`: export the decision log, evaluate policies offline, simulate."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from core.settings import get_settings


def add_commands(sub: argparse._SubParsersAction) -> None:
    bandit = sub.add_parser("bandit", help="Recommendation model: logs, evaluation, simulation.")
    commands = bandit.add_subparsers(dest="bandit_command", required=True)

    export = commands.add_parser(
        "export-log", help="Write the decision + reward log as JSONL (shopgraph format)."
    )
    export.add_argument("--output", "-o", default="-", help="File (default: stdout).")
    export.add_argument(
        "--include-open", action="store_true",
        help="Also export decisions whose reward window is still open (reward null).",
    )  # fmt: skip
    export.add_argument(
        "--before", type=_timestamp, metavar="TIME",
        help="Only decisions made before TIME (ISO 8601, e.g. 2026-01-31 or "
        "2026-01-31T12:00:00+00:00; UTC if no offset): the archive to take before purging.",
    )  # fmt: skip
    export.set_defaults(func=_export_log)

    purge = commands.add_parser(
        "purge-log",
        help="Delete logged decisions (and their rewards) made before a time, in batches.",
    )
    purge.add_argument(
        "--before", type=_timestamp, metavar="TIME",
        help="Default: now minus DECISION_LOG_RETENTION_DAYS.",
    )  # fmt: skip
    purge.set_defaults(func=_purge_log)

    evaluate = commands.add_parser(
        "evaluate", help="IPS/SNIPS/DR estimates with 95%% CIs for logged, uniform and VW policies."
    )
    evaluate.add_argument("--log", required=True, help="A log file (JSONL or OBD CSV).")
    evaluate.add_argument("--format", choices=("shopgraph", "obd"), default="shopgraph")
    evaluate.add_argument("--train-fraction", type=float, default=0.7)
    evaluate.set_defaults(func=_evaluate)

    simulate = commands.add_parser(
        "simulate", help="Synthetic shoppers against the real service layer vs baselines."
    )
    simulate.add_argument("--events", type=int, default=20_000)
    simulate.add_argument("--seed", type=int, default=7)
    simulate.add_argument("--checkpoint-every", type=int, default=1000)
    simulate.add_argument(
        "--policies", default="random,popularity,vw,oracle",
        help="Library baselines to run beside the service layer (comma-separated).",
    )  # fmt: skip
    simulate.add_argument(
        "--database-url", default="", help="Database for the run (default: a temporary SQLite)."
    )
    simulate.set_defaults(func=_simulate)


def _timestamp(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date or time: {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _export_log(args: argparse.Namespace) -> int:
    from core.db import database
    from services.recommendations.export import export_log

    async def run(out):
        async with database(get_settings(), migrate_first=False):
            return await export_log(out, include_open=args.include_open, before=args.before)

    if args.output == "-":
        summary = asyncio.run(run(sys.stdout))
    else:
        with Path(args.output).open("w", encoding="utf-8") as out:
            summary = asyncio.run(run(out))
    print(
        f"exported {summary.lines} decision-slots of {summary.decisions} decisions"
        + (f"; skipped {summary.skipped} that cannot be rebuilt" if summary.skipped else ""),
        file=sys.stderr,
    )
    return 0


def _purge_log(args: argparse.Namespace) -> int:
    from core.db import database
    from services.recommendations import retention
    from services.recommendations.snapshots import SnapshotStore

    settings = get_settings()
    before = args.before or retention.cutoff_for(settings.decision_log_retention_days)
    if before is None:
        print("DECISION_LOG_RETENTION_DAYS is 0 (keep forever): pass --before", file=sys.stderr)
        return 2

    async def run() -> int:
        async with database(settings, migrate_first=False):
            newest = await SnapshotStore(settings).newest()
            # Never purge rewards the newest published model has not learned.
            learned = newest.position if newest is not None else None
            if learned is None:
                print("no model snapshot yet: nothing is purged", file=sys.stderr)
                return 0
            return await retention.purge_before(before, learned=learned)

    count = asyncio.run(run())
    print(f"purged {count} decisions made before {before.isoformat()}", file=sys.stderr)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from bandit.evaluation import evaluate_file, format_report

    report = evaluate_file(args.log, args.format, train_fraction=args.train_fraction)
    print(format_report(report))
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from bandit.simulation import SimulationConfig, format_curves, run_simulation
    from services.simulation import ServiceLayer, ServiceRecommender, simulation_settings

    config = SimulationConfig(
        events=args.events, seed=args.seed, checkpoint_every=args.checkpoint_every
    )
    policies = [p for p in args.policies.split(",") if p]
    with tempfile.TemporaryDirectory(prefix="shopgraph-sim-") as tmp:
        layer = ServiceLayer(simulation_settings(Path(tmp), args.database_url))
        try:
            started = time.perf_counter()
            result = run_simulation(
                config, policies, workers=2, extra=[lambda world: ServiceRecommender(layer, world)]
            )
        finally:
            layer.close()
    print(format_curves(result, "ctr"))
    print()
    print(format_curves(result, "reward"))
    final = {c.name: c.final.cumulative_ctr for c in result.curves}
    window = {c.name: c.final.window_ctr for c in result.curves}
    if "random" in final and "oracle" in final:
        ours = window["shopgraph"]
        print(
            f"\nshopgraph (last window): {ours / window['random']:.2f}x random, "
            f"{ours / window['oracle']:.0%} of oracle "
            f"(targets: >= 2x random, >= 80% of oracle); {time.perf_counter() - started:.0f} s"
        )
    return 0
