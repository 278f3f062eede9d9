"""Writes small Open-Bandit-Dataset-format logs with known click rates for the tests."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

START = datetime(2024, 5, 1, tzinfo=UTC)


def write_obd_fixture(directory: Path, *, n: int, propensity, ctr, seed: int) -> None:
    """An OBD-format log over 4 items and 2 positions with known click rates."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "item_context.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["", "item_id", "item_feature_0", "item_feature_1", "item_feature_2", "item_feature_3"]
        )
        for item in range(4):
            writer.writerow([item, item, 0.1 * item - 0.2, f"h{item % 2}", "x", f"y{item}"])
    header = ["", "timestamp", "item_id", "position", "click", "propensity_score"]
    header += [f"user_feature_{i}" for i in range(4)]
    header += [f"user-item_affinity_{i}" for i in range(4)]
    with (directory / "log.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in range(n):
            position = int(rng.integers(1, 3))
            p = np.asarray(propensity[position - 1])
            item = int(rng.choice(4, p=p))
            click = int(rng.random() < ctr[item])
            time = START + timedelta(seconds=row)
            affinity = [0.0, 0.0, 3.0 if item == 2 else 0.0, 0.0]
            writer.writerow(
                [
                    row,
                    time.isoformat(sep=" "),
                    item,
                    position,
                    click,
                    p[item],
                    "a",
                    "b",
                    f"c{row % 3}",
                    "d",
                    *affinity,
                ]
            )
