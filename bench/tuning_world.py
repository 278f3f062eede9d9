"""What self-tuning achieves in a world of the suite (issue 13 section 4).

For one world and seed:

1. the service runs `--slates` slates with its default configuration (as in the suite);
2. the tuner (`services.recommendations.tuning.tune`, the default candidate grid) runs on
   that run's own decision log, the way `shop bandit tune` would;
3. the service runs the same world and seed again from the start with the configuration
   the tuner chose (if it chose one; `--force NAME` runs a candidate of the grid anyway,
   to see what the tuner's estimate was worth).

Prints the tuner's table and the CTR over the last quarter of the slates, as a share of the
oracle's, before and after. Usage::

    .venv/bin/python -m bench.tuning_world --world groups-tickcross --seed 1 --slates 4000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import asdict

from bandit.learner import LearnerConfig
from bandit.simulation.worlds.policies import OraclePolicy
from bandit.simulation.worlds.runner import Run, run_policy
from bandit.simulation.worlds.spec import WORLDS
from bandit.simulation.worlds.world import World
from bandit.tuning import candidate_configs, format_result
from services.recommendations import tuning
from services.simulation import ServiceShop, service_policy


def _service_run(world: World, config: LearnerConfig | None, *, tune: bool):
    shop: ServiceShop = service_policy(world)
    close, shop.close = shop.close, lambda: None  # keep the database for the tuner
    try:
        runtime = shop.layer.runtime
        if config is not None:
            shop.layer.call(_start_with(runtime, config))
        started = time.perf_counter()
        run = run_policy(world, shop)
        print(f"  service run: {run.slates} slates in {time.perf_counter() - started:.0f} s")
        outcome = None
        if tune:
            settings = shop.layer.settings.model_copy(update={"tune_min_evaluated": 1000})
            started = time.perf_counter()
            outcome = shop.layer.call(
                tuning.tune(settings, store=runtime.store, catalog=runtime.catalog, dry_run=True)
            )
            print(f"  tuning: {time.perf_counter() - started:.0f} s")
        return run, outcome
    finally:
        close()


async def _start_with(runtime, config: LearnerConfig) -> None:
    await tuning.switch_to(config, store=runtime.store, catalog=runtime.catalog)
    async with asyncio.timeout(30):
        while not (runtime.is_learner and runtime.model.config == config):
            await asyncio.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", default="groups-tickcross")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--slates", type=int, default=4000)
    parser.add_argument(
        "--force", help="Run this candidate of the grid after, whatever the tuner says."
    )
    parser.add_argument("--output", help="Write the figures as JSON here.")
    parser.add_argument(
        "--configs",
        help="Only run the service with these candidates of the default grid (comma-separated),"
        " no tuning: what each would really have achieved in the world.",
    )
    args = parser.parse_args()

    world = World(WORLDS[args.world], seed=args.seed, slates=args.slates)
    oracle = run_policy(world, OraclePolicy(world))
    ceiling = oracle.ctr(args.slates)
    print(f"{args.world}, seed {args.seed}, {args.slates} slates; oracle CTR {ceiling:.3f}")

    if args.configs:
        grid = {c.name: c.config for c in candidate_configs(LearnerConfig())}
        for name in args.configs.split(","):
            fresh = World(WORLDS[args.world], seed=args.seed, slates=args.slates)
            run, _ = _service_run(fresh, grid[name], tune=False)
            share = run.ctr(args.slates) / ceiling
            print(f"{name}: {share:.1%} of the oracle (CTR {run.ctr(args.slates):.3f})", flush=True)
        return

    before, outcome = _service_run(world, None, tune=True)
    result = outcome.result
    print(format_result(result) if result is not None else outcome.message)
    chosen = result.promoted if result is not None else None
    config = chosen.config if chosen is not None else None
    name = chosen.name if chosen is not None else None
    if args.force:
        grid = {c.name: c.config for c in candidate_configs(LearnerConfig())}
        config, name = grid[args.force], args.force
    after: Run | None = None
    if config is not None:
        print(f"  running again with {name}")
        after, _ = _service_run(
            World(WORLDS[args.world], seed=args.seed, slates=args.slates), config, tune=False
        )

    def share(run: Run) -> float:
        return run.ctr(args.slates) / oracle.ctr(args.slates)

    print(f"before (default configuration): {share(before):.0%} of the oracle")
    if after is not None:
        print(f"after ({name}): {share(after):.0%} of the oracle")
    else:
        print("after: the tuner kept the default configuration (nothing to run)")
    if args.output:
        with open(args.output, "w") as handle:
            json.dump(
                {
                    "world": args.world,
                    "seed": args.seed,
                    "slates": args.slates,
                    "oracle_ctr": oracle.ctr(args.slates),
                    "before": share(before),
                    "after": None if after is None else share(after),
                    "after_config": name,
                    "after_config_args": None if config is None else asdict(config),
                    "tuning": None if result is None else result.evidence(),
                },
                handle,
                indent=1,
            )


if __name__ == "__main__":
    main()
