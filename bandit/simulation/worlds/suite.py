"""The world suite: which runs make up the table, where their results are kept, and the table.

Every (world, seed, policy) run is stored as JSON under a results directory with the clicks
of every slate, so a table at any horizon is recomputed without rerunning, an interrupted
suite resumes where it stopped (runs save partial results every 1,000 slates, usable for
the shorter horizons), and a longer run replaces a shorter one.

The service is not built here (`bandit` knows nothing of the app): the caller passes a
`service_factory` that builds it for a world (a module-level function, so that runs can be
spread over processes).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from bandit.simulation.worlds.anchor import PlainVWPolicy
from bandit.simulation.worlds.policies import OraclePolicy, Policy, PopularityPolicy, RandomPolicy
from bandit.simulation.worlds.runner import Run, run_policy
from bandit.simulation.worlds.spec import WORLDS
from bandit.simulation.worlds.stats import Interval, t_interval
from bandit.simulation.worlds.world import World

POLICIES = ("random", "popularity", "plain-vw", "oracle", "service")
LIBRARY_POLICIES = ("random", "popularity", "plain-vw", "oracle")
HORIZONS = (1000, 4000, 8000, 20000)
ServiceFactory = Callable[[World], Policy]


@dataclass(frozen=True)
class Task:
    world: str
    seed: int
    policy: str
    slates: int


def make_policy(name: str, world: World, service_factory: ServiceFactory | None) -> Policy:
    if name == "random":
        return RandomPolicy(world.seed)
    if name == "popularity":
        return PopularityPolicy(world.seed)
    if name == "oracle":
        return OraclePolicy(world)
    if name == "plain-vw":
        return PlainVWPolicy(world.seed)
    if name == "service":
        if service_factory is None:
            raise ValueError("the service policy needs a service factory")
        return service_factory(world)
    raise ValueError(f"unknown policy {name!r}; known: {', '.join(POLICIES)}")


def policy_names(selection: str) -> list[str]:
    names = list(POLICIES) if selection == "all" else [n.strip() for n in selection.split(",")]
    unknown = [n for n in names if n not in POLICIES]
    if unknown or not names:
        raise ValueError(f"unknown policy {', '.join(unknown)}; known: {', '.join(POLICIES)}")
    return names


# -- stored results ----------------------------------------------------------------------
def result_path(root: Path, world: str, seed: int, policy: str) -> Path:
    return Path(root) / world / f"seed{seed}" / f"{policy}.json"


def save_run(root: Path, run: Run) -> None:
    path = result_path(root, run.world, run.seed, run.policy)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(f".{os.getpid()}.tmp")
    temp.write_text(json.dumps(run.to_json(), separators=(",", ":")))
    temp.replace(path)


def load_run(root: Path, world: str, seed: int, policy: str) -> Run | None:
    path = result_path(root, world, seed, policy)
    try:
        return Run.from_json(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError):
        return None


def pending(tasks: Iterable[Task], root: Path) -> list[Task]:
    """The tasks without a stored run of at least their length."""
    todo = []
    for task in tasks:
        stored = load_run(root, task.world, task.seed, task.policy)
        if stored is None or stored.slates < task.slates:
            todo.append(task)
    return todo


def plan(
    worlds: Sequence[str], seeds: Sequence[int], policies: Sequence[str], slates: int
) -> list[Task]:
    """Library policies first (cheap), then the service, seed by seed over the worlds."""
    tasks = [
        Task(w, s, p, slates) for p in policies if p != "service" for s in seeds for w in worlds
    ]
    if "service" in policies:
        tasks += [Task(w, s, "service", slates) for s in seeds for w in worlds]
    return tasks


def execute(task: Task, root: Path, service_factory: ServiceFactory | None = None) -> Run:
    world = World(WORLDS[task.world], task.seed, task.slates)
    policy = make_policy(task.policy, world, service_factory)
    run = run_policy(world, policy, on_progress=lambda partial: save_run(root, partial))
    save_run(root, run)
    return run


def run_suite(
    tasks: Sequence[Task],
    root: Path,
    *,
    jobs: int = 1,
    service_factory: ServiceFactory | None = None,
    log: Callable[[str], None] = print,
) -> None:
    """Run the tasks that have no stored result yet, in `jobs` processes."""
    todo = pending(tasks, root)
    log(f"{len(todo)} of {len(tasks)} runs to do; results in {root}")
    started = time.perf_counter()

    def report(run: Run) -> None:
        log(
            f"  {run.world:<17} seed {run.seed} {run.policy:<10} {run.slates:>6} slates "
            f"{run.seconds:7.1f} s  (elapsed {time.perf_counter() - started:.0f} s)"
        )

    if jobs <= 1:
        for task in todo:
            report(execute(task, root, service_factory))
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(execute, task, root, service_factory) for task in todo]
        for future in as_completed(futures):
            report(future.result())


# -- the table ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    """One policy at one horizon: share of the oracle's CTR and multiple of random's."""

    ctr: Interval
    of_oracle: Interval | None
    of_random: Interval | None


def cell(root: Path, world: str, policy: str, horizon: int, seeds: Sequence[int]) -> Cell | None:
    ctrs, of_oracle, of_random = [], [], []
    for seed in seeds:
        run = load_run(root, world, seed, policy)
        if run is None or run.slates < horizon:
            continue
        ctr = run.ctr(horizon)
        ctrs.append(ctr)
        for baseline, ratios in (("oracle", of_oracle), ("random", of_random)):
            base = load_run(root, world, seed, baseline)
            if base is not None and base.slates >= horizon and base.ctr(horizon) > 0:
                ratios.append(ctr / base.ctr(horizon))
    if not ctrs:
        return None
    return Cell(
        t_interval(ctrs),
        t_interval(of_oracle) if of_oracle else None,
        t_interval(of_random) if of_random else None,
    )


def _pm(interval: Interval, scale: float, digits: int) -> str:
    if math.isnan(interval.half_width):
        return f"{interval.mean * scale:.{digits}f}"
    return f"{interval.mean * scale:.{digits}f} ± {interval.half_width * scale:.{digits}f}"


def format_cell(c: Cell | None, policy: str, seeds: int) -> str:
    if c is None:
        return "-"
    if policy == "oracle":
        text = f"CTR {_pm(c.ctr, 1, 3)}"
    else:
        text = f"{_pm(c.of_oracle, 100, 0)}%" if c.of_oracle else f"CTR {_pm(c.ctr, 1, 3)}"
        if c.of_random and policy != "random":
            text += f" · {c.of_random.mean:.1f}x"
    return text + (f" ({c.ctr.n}/{seeds} seeds)" if c.ctr.n < seeds else "")


def format_table(
    root: Path,
    worlds: Sequence[str],
    policies: Sequence[str],
    seeds: Sequence[int],
    horizons: Sequence[int] = HORIZONS,
) -> str:
    """Markdown: per world and policy, % of the oracle's CTR (± 95% t-interval over
    seeds) and x random at each horizon; the oracle's own CTR on its row."""
    order = [p for p in ("oracle", *POLICIES) if p in policies]
    order = list(dict.fromkeys(order))
    header = "| world | policy | " + " | ".join(_slates(h) for h in horizons) + " |"
    lines = [header, "|" + "---|" * (2 + len(horizons))]
    for world in worlds:
        for i, policy in enumerate(order):
            cells = [
                format_cell(cell(root, world, policy, h, seeds), policy, len(seeds))
                for h in horizons
            ]
            name = f"**{policy}**" if policy == "service" else policy
            lines.append(f"| {world if i == 0 else ''} | {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_times(
    root: Path, worlds: Sequence[str], policies: Sequence[str], seeds: Sequence[int]
) -> str:
    """Mean wall-clock seconds of the longest runs (slates, how many runs) per world and policy."""
    lines = ["| world | " + " | ".join(policies) + " |", "|" + "---|" * (1 + len(policies))]
    for world in worlds:
        cells = []
        for policy in policies:
            runs = [load_run(root, world, s, policy) for s in seeds]
            runs = [r for r in runs if r is not None]
            if not runs:
                cells.append("-")
                continue
            slates = max(r.slates for r in runs)
            longest = [r.seconds for r in runs if r.slates == slates]
            seconds = sum(longest) / len(longest)
            cells.append(f"{seconds:.0f} s / {_slates(slates)} ({len(longest)})")
        lines.append(f"| {world} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _slates(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def _shares(root: Path, world: str, policy: str, horizon: int, seeds: Sequence[int]) -> dict:
    shares = {}
    for seed in seeds:
        run, oracle = load_run(root, world, seed, policy), load_run(root, world, seed, "oracle")
        if run and oracle and min(run.slates, oracle.slates) >= horizon:
            shares[seed] = run.ctr(horizon) / oracle.ctr(horizon)
    return shares


def format_targets(root: Path, worlds: Sequence[str], seeds: Sequence[int]) -> str:
    """Issue 13's targets against today's figures: the service at least plain VW at 4k in
    every world (the t-interval of the per-seed difference of shares of the oracle reaches
    0), tick/cross at >= 80% of the oracle at 4k, taste groups at >= 75% at 8k."""
    lines = []
    for world in worlds:
        service = _shares(root, world, "service", 4000, seeds)
        anchor = _shares(root, world, "plain-vw", 4000, seeds)
        common = sorted(set(service) & set(anchor))
        if not common:
            continue
        diff = t_interval([service[s] - anchor[s] for s in common])
        if math.isnan(diff.high):
            met = ("met" if diff.mean >= 0 else "NOT met") + " (one seed: no interval)"
        else:
            met = "met" if diff.high >= 0 else "NOT met"
        lines.append(
            f"- {world}: service - plain VW at 4k = {_pm(diff, 100, 0)} points of the oracle "
            f"({len(common)} seeds): {met}"
        )
    for world, horizon, goal in (("own-tickcross", 4000, 0.80), ("groups-tickcross", 8000, 0.75)):
        if world not in worlds:
            continue
        shares = _shares(root, world, "service", horizon, seeds)
        if shares:
            share = t_interval(list(shares.values()))
            met = "met" if share.mean >= goal else "NOT met"
            lines.append(
                f"- {world} at {_slates(horizon)}: {_pm(share, 100, 0)}% of the oracle, target "
                f">= {goal:.0%}: {met}"
            )
    return "\n".join(lines)
