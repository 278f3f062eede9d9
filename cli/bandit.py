"""`shop bandit ...`: export the decision log, evaluate policies offline, tune the
learner configuration, simulate."""

from __future__ import annotations

import argparse
import asyncio
import sys
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

    tune = commands.add_parser(
        "tune",
        help="Evaluate learner configurations on the decision log; promote a better one "
        "(or roll the last promotion back with --rollback).",
    )
    tune.add_argument(
        "--dry-run", action="store_true", help="Evaluate and decide, but change nothing."
    )
    tune.add_argument(
        "--rollback", action="store_true",
        help="Restore the configuration the newest promotion in force replaced.",
    )  # fmt: skip
    tune.add_argument("--train-fraction", type=float, default=0.7)
    tune.add_argument("--confidence", type=float, default=0.95)
    tune.set_defaults(func=_tune)

    simulate = commands.add_parser(
        "simulate",
        help="The world suite: simulated shops, the service against random, popularity, "
        "plain VW and the oracle.",
    )
    simulate.add_argument(
        "--world", default="all", help="A world, a comma-separated list, or `all` (default)."
    )
    simulate.add_argument("--slates", type=int, default=4000, help="Slates per run (4000).")
    simulate.add_argument("--seeds", type=int, default=3, help="Seeds 1..N (3).")
    simulate.add_argument(
        "--policies", default="all",
        help="Comma-separated: random, popularity, plain-vw, oracle, service (default all).",
    )  # fmt: skip
    simulate.add_argument(
        "--results", default="artifacts/worlds",
        help="Where runs are stored; stored runs are reused (default artifacts/worlds).",
    )  # fmt: skip
    simulate.add_argument("--jobs", type=int, default=1, help="Processes running in parallel.")
    simulate.add_argument(
        "--table-only", action="store_true", help="Print the table from stored runs only."
    )
    simulate.add_argument("--list", action="store_true", help="List the worlds and exit.")
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


def _tune(args: argparse.Namespace) -> int:
    from bandit.tuning import format_result
    from core.db import database
    from live import EventHub
    from services.recommendations import tuning
    from services.recommendations.snapshots import SnapshotStore

    settings = get_settings()
    if not 0.0 < args.train_fraction < 1.0 or not 0.5 <= args.confidence < 1.0:
        print("--train-fraction must be in (0, 1) and --confidence in [0.5, 1)", file=sys.stderr)
        return 2

    async def run() -> int:
        async with database(settings, migrate_first=settings.should_migrate_on_start):
            hub = EventHub.from_url(settings.broadcast_url, namespace=settings.event_namespace)
            await hub.connect()
            store = SnapshotStore(settings)
            try:
                if args.rollback:
                    try:
                        done = await tuning.rollback(settings, store=store, hub=hub)
                    except tuning.NothingToRollBack as error:
                        print(error, file=sys.stderr)
                        return 1
                    print(
                        f"rolled back promotion #{done.reverted.id} ({done.reverted.candidate}): "
                        f"snapshot {done.snapshot.version} runs the previous configuration"
                    )
                    return 0
                outcome = await tuning.tune(
                    settings, store=store, hub=hub, dry_run=args.dry_run,
                    train_fraction=args.train_fraction, confidence=args.confidence,
                )  # fmt: skip
            finally:
                await hub.disconnect()
        if outcome.result is not None:
            print(format_result(outcome.result))
        print(outcome.message)
        if outcome.snapshot is not None:
            print(
                f"published snapshot {outcome.snapshot.version}; recorded as promotion "
                f"#{outcome.promotion.id} (undo: shop bandit tune --rollback)"
            )
        return 0

    return asyncio.run(run())


def service_factory(world):
    """The service for a world: the in-process service layer, or a live server over HTTP."""
    if world.spec.transport == "http":
        from bench.world_http import http_policy

        return http_policy(world)
    from services.simulation import service_policy

    return service_policy(world)


def _simulate(args: argparse.Namespace) -> int:
    from bandit.simulation.worlds import suite
    from bandit.simulation.worlds.spec import WORLDS, world_names

    if args.list:
        for spec in WORLDS.values():
            print(f"{spec.name:<17} {spec.summary}")
        return 0
    try:
        worlds = world_names(args.world)
        policies = suite.policy_names(args.policies)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    if args.slates < 4 or args.seeds < 1:
        print("--slates must be at least 4 and --seeds at least 1", file=sys.stderr)
        return 2
    root = Path(args.results)
    seeds = list(range(1, args.seeds + 1))
    started = time.perf_counter()
    if not args.table_only:
        tasks = suite.plan(worlds, seeds, policies, args.slates)
        suite.run_suite(tasks, root, jobs=args.jobs, service_factory=service_factory)
    shown = [p for p in suite.POLICIES if p in policies or p in ("oracle", "random")]
    horizons = [h for h in suite.HORIZONS if h <= max(args.slates, 1)] or [args.slates]
    print()
    print(suite.format_table(root, worlds, shown, seeds, horizons))
    print()
    print(suite.format_times(root, worlds, shown, seeds))
    if "service" in shown:
        print("\nIssue 13's targets:")
        print(suite.format_targets(root, worlds, seeds))
    print(f"\n{time.perf_counter() - started:.0f} s")
    return 0
