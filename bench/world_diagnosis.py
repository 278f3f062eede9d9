"""Where the service loses clicks in a world: candidates, ranking, or its shopper context.

    python -m bench.world_diagnosis --world own-tickcross --slates 4000 [--seed 1]

Runs the service (in process, as `shop bandit simulate` does) and, per quarter of the run,
prints with the world's hidden truth:
- ctr:          clicks per shown item;
- ceiling:      expected clicks of the best k among the service's *candidates*, as a share
                of the oracle's (best k in the whole catalog): what candidate generation
                leaves reachable;
- ranking:      the service's expected clicks as a share of that ceiling;
- liked-shown:  share of shown items in a category the shopper likes;
- recent-liked: share of the context's `recent_categories` the shopper actually likes
                (what the service calls recent interest);
- recent-len:   mean number of recent categories in the context.
"""

from __future__ import annotations

import argparse

import numpy as np

from bandit.simulation.worlds.runner import check_slate
from bandit.simulation.worlds.spec import WORLDS
from bandit.simulation.worlds.world import World
from services.simulation import service_policy


def diagnose(name: str, slates: int, seed: int) -> None:
    world = World(WORLDS[name], seed, slates)
    shop = service_policy(world)
    rows = []
    try:
        for index in range(slates):
            arrived = world.arrivals(index)
            if arrived:
                shop.arrive(arrived)
            request = world.request(index)
            shown = shop.recommend(request)
            check_slate(world, request, shown)
            decision = shop.last_decision
            candidates = [shop._world_id[c.action_id] for c in decision.candidates]
            catalog = [p.id for p in world.available(index)]
            k = request.k
            best_all = np.sort(world.attraction(request, catalog))[::-1][:k]
            best_candidates = np.sort(world.attraction(request, candidates))[::-1][:k]
            exam = np.array([world.spec.exam(s) for s in range(k)])
            oracle = float(exam @ best_all)
            ceiling = float(exam @ best_candidates)
            expected = world.expected_clicks(request, shown)
            liked = world.liked_categories(request)
            category = {p.id: p.category for p in world.available(index)}
            recent = list(decision.context.recent_categories)
            outcome = world.outcome(request, shown)
            shop.feedback(request, shown, outcome)
            rows.append(
                (
                    outcome.n_clicks / k,
                    ceiling / oracle,
                    expected / ceiling if ceiling else 1.0,
                    np.mean([category[p] in liked for p in shown]),
                    np.mean([c in liked for c in recent]) if recent else np.nan,
                    len(recent),
                )
            )
    finally:
        shop.close()
    data = np.array(rows, dtype=float)
    print(f"{name} seed {seed}: per quarter of {slates} slates")
    print("quarter     ctr  ceiling  ranking  liked-shown  recent-liked  recent-len")
    for q, part in enumerate(np.array_split(data, 4), 1):
        m = np.nanmean(part, axis=0)
        print(f"{q:>7} {m[0]:7.3f} {m[1]:8.0%} {m[2]:8.0%} {m[3]:12.0%} {m[4]:13.0%} {m[5]:11.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", default="own-tickcross")
    parser.add_argument("--slates", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    for name in args.world.split(","):
        diagnose(name, args.slates, args.seed)


if __name__ == "__main__":
    main()
