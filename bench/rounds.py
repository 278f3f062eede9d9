"""What every benchmark shares so that none of them can flatter us: alternating rounds,
medians with their spread, ratios taken per round against a baseline measured in the same
round, and a hard failure when the compared servers answer different data.

A figure from one window says as much about the other agents on the machine as about the
code; the median of >= 3 rounds, each visiting every contender in an order that alternates,
with min-max beside it, says which part is noise.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

MIN_ROUNDS = 3


class DifferentData(Exception):
    """The compared servers answered different data: no figure from them means anything."""


class EmptyRound(Exception):
    """A contender completed no request in a round's window: no ratio can be taken."""


@dataclass(frozen=True)
class Spread:
    """The median of some per-round values and their range."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        if not values:
            raise ValueError("no rounds measured")
        return cls(statistics.median(values), min(values), max(values))

    def format(self, digits: int = 0) -> str:
        return f"{self.median:.{digits}f} ({self.low:.{digits}f}-{self.high:.{digits}f})"


def order(keys: Sequence[str], round_index: int) -> list[str]:
    """The order to visit `keys` in, in round `round_index`: rotated every round, so that a
    drift in the machine's load does not always fall on the same contender (with two keys
    this alternates)."""
    shift = round_index % len(keys)
    return [*keys[shift:], *keys[:shift]]


def ratio(values: Sequence[float], baseline: Sequence[float]) -> Spread:
    """Per-round ratios `values[i] / baseline[i]` (both measured in round i)."""
    if any(b == 0 for b in baseline):
        raise EmptyRound("a baseline measured nothing in a round (a window too short for the "
                         "machine's load: raise --seconds)")  # fmt: skip
    return Spread.of([v / b for v, b in zip(values, baseline, strict=True)])


def run_rounds(
    keys: Sequence[str], rounds: int, measure: Callable[[str, int], T]
) -> dict[str, list[T]]:
    """Call `measure(key, round_index)` for every key in every round (alternating order)."""
    if rounds < MIN_ROUNDS:
        raise ValueError(f"at least {MIN_ROUNDS} rounds, got {rounds}")
    out: dict[str, list[T]] = {key: [] for key in keys}
    for index in range(rounds):
        for key in order(keys, index):
            out[key].append(measure(key, index))
    return out


async def run_rounds_async(keys: Sequence[str], rounds: int, measure) -> dict[str, list]:
    """`run_rounds` for an async `measure(key, round_index)`."""
    if rounds < MIN_ROUNDS:
        raise ValueError(f"at least {MIN_ROUNDS} rounds, got {rounds}")
    out: dict[str, list] = {key: [] for key in keys}
    for index in range(rounds):
        for key in order(keys, index):
            out[key].append(await measure(key, index))
    return out


def require_same(answers: Mapping[str, object], what: str) -> None:
    """Raise DifferentData unless every answer equals the first one."""
    items = list(answers.items())
    first_key, first = items[0]
    for key, answer in items[1:]:
        if answer != first:
            raise DifferentData(
                f"{what}: {key} answered different data than {first_key}:\n"
                f"  {key}: {json.dumps(answer, default=str)[:400]}\n"
                f"  {first_key}: {json.dumps(first, default=str)[:400]}"
            )


def add_rounds_argument(parser: argparse.ArgumentParser, default: int = MIN_ROUNDS) -> None:
    parser.add_argument(
        "--rounds", type=int, default=default, help=f"alternating rounds (>= {MIN_ROUNDS})"
    )


def check_rounds(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.rounds < MIN_ROUNDS:
        parser.error(f"--rounds must be at least {MIN_ROUNDS} (medians and spreads need them)")


def exit_on_different_data(run: Callable[[], object]) -> object:
    """Run a benchmark's main body; servers answering different data (or a round with
    nothing measured) exit with status 1."""
    try:
        return run()
    except DifferentData as exc:
        print(f"FAILED: servers answer different data: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    except EmptyRound as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
