"""Latency of the bandit's ranking paths, and CCB vs per-slot CB in the simulator.

    python bench/bandit_raw_vw.py                  # latency, 150 candidates, slates of 10
    python bench/bandit_raw_vw.py --ccb-sim 20000  # learning quality: CCB vs per-slot CB

Latency rows (per decision, after a warm-up; p50 / p95 / mean in ms):
- raw-predict:     one `Workspace.predict` of a `--cb_explore_adf` example over all
                   candidates from pre-encoded text (a single-item decision in VW alone)
- learner-rank:    `BanditLearner.rank(k=10)`: encode, parse once, 10 slot predictions,
                   sampling (the library path the service uses; includes encoding)
- pyvw-reparse:    10 slot predictions re-parsing the text each slot through the public
                   API (what per-slot re-prediction costs without the parse-once path)
- ccb-predict:     one `--ccb_explore_adf` prediction of 10 slots from pre-encoded text
These are the numbers to compare the HTTP endpoint against.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from vowpalwabbit import Workspace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bandit.features import FeatureEncoder
from bandit.learner import BanditLearner, LearnerConfig
from bandit.simulation import (
    SimulationConfig,
    World,
    WorldConfig,
    format_curves,
    run_simulation,
)
from bandit.simulation.world import ShopperRequest
from bandit.slates import SlateItem


def timed(label: str, run: Callable[[int], object], repeats: int) -> None:
    for i in range(50):
        run(i)
    samples = []
    for i in range(repeats):
        start = time.perf_counter()
        run(i)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[int(0.95 * len(samples))]
    print(
        f"{label:<14} p50 {statistics.median(samples):6.3f}  p95 {p95:6.3f}  "
        f"mean {statistics.fmean(samples):6.3f} ms"
    )


def ccb_lines(encoder: FeatureEncoder, request: ShopperRequest, k: int) -> list[str]:
    shared = encoder.shared_line(request.context).removeprefix("shared")
    actions = encoder.action_lines(request.context, request.candidates)
    return [
        f"ccb shared {shared}",
        *(f"ccb action {a}" for a in actions),
        *(f"ccb slot |S slot={s}" for s in range(k)),
    ]


def ccb_args(config: LearnerConfig) -> list[str]:
    return ["--ccb_explore_adf", *config.vw_args()[1:]]


def latency(n_candidates: int, k: int, repeats: int) -> None:
    world = World(WorldConfig(candidates_per_request=n_candidates), seed=7)
    rng = np.random.default_rng(0)
    requests = [world.request(i, rng, {}) for i in range(200)]
    config = LearnerConfig()
    learner = BanditLearner(config)
    encoder = FeatureEncoder()
    # Warm the model so the weights of the crosses exist (a fresh model is not the
    # realistic case for latency, though VW's cost hardly depends on the weights).
    for request in requests[:100]:
        slate = learner.rank(request.context, request.candidates, k, seed=rng)
        for item in slate.items:
            learner.learn(
                slate.example_for(
                    item.action_id,
                    float(rng.random() < 0.1),
                    context=request.context,
                    candidates=request.candidates,
                )
            )
    raw = Workspace(arg_list=config.vw_args())
    ccb = Workspace(arg_list=ccb_args(config))

    # Raw rows time VW alone: their text is encoded up front.
    encoded = [
        [encoder.shared_line(r.context), *encoder.action_lines(r.context, r.candidates)]
        for r in requests
    ]
    encoded_ccb = [ccb_lines(encoder, r, k) for r in requests]

    def lines(i: int) -> list[str]:
        return list(encoded[i % len(encoded)])

    def reparse(i: int) -> None:
        text = lines(i)
        shared, actions = text[0], text[1:]
        for slot in range(k):
            pmf = raw.predict([shared, *actions])
            actions.pop(int(np.argmax(pmf)))
            del slot

    print(f"{n_candidates} candidates, slates of {k}, {repeats} decisions each")
    timed("raw-predict", lambda i: raw.predict(lines(i)), repeats)
    timed(
        "learner-rank",
        lambda i: learner.rank(
            requests[i % len(requests)].context, requests[i % len(requests)].candidates, k, seed=i
        ),
        repeats,
    )
    timed("pyvw-reparse", reparse, repeats)
    timed("ccb-predict", lambda i: ccb.predict(encoded_ccb[i % len(encoded_ccb)]), repeats)


class CCBRecommender:
    """`--ccb_explore_adf`: VW samples the slate; rewards are learned per whole slate."""

    name = "ccb"

    def __init__(self, config: LearnerConfig) -> None:
        self._workspace = Workspace(arg_list=ccb_args(config))
        self._encoder = FeatureEncoder()
        self._lines: dict[int, list[str]] = {}

    def recommend(self, request: ShopperRequest, k: int) -> Sequence[SlateItem]:
        k = min(k, len(request.candidates))
        lines = ccb_lines(self._encoder, request, k)
        slots = self._workspace.predict(lines)
        self._lines[request.request_id] = lines
        return [
            SlateItem(request.candidates[slot[0][0]].action_id, s, slot[0][1], 0.0)
            for s, slot in enumerate(slots)
        ]

    def feedback(self, request, shown, rewards, outcomes=None) -> None:
        lines = self._lines.pop(request.request_id)
        index = {c.action_id: i for i, c in enumerate(request.candidates)}
        first_slot = len(lines) - len(shown)
        for slot, (item, reward) in enumerate(zip(shown, rewards, strict=True)):
            label = f"{index[item.action_id]}:{-reward}:{item.probability}"
            lines[first_slot + slot] = lines[first_slot + slot].replace(
                "ccb slot ", f"ccb slot {label} ", 1
            )
        self._workspace.learn(lines)


def ccb_simulation(events: int, seed: int) -> None:
    config = SimulationConfig(events=events, seed=seed, checkpoint_every=max(events // 10, 1))
    started = time.perf_counter()
    result = run_simulation(
        config,
        policies=("random", "vw"),
        extra=[lambda world: CCBRecommender(config.learner)],
    )
    print(format_curves(result))
    print(f"seed {seed}, {time.perf_counter() - started:.0f} s")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=150)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=1000)
    parser.add_argument("--ccb-sim", type=int, default=0, metavar="EVENTS")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.ccb_sim:
        ccb_simulation(args.ccb_sim, args.seed)
    else:
        latency(args.candidates, args.k, args.repeats)


if __name__ == "__main__":
    main()
