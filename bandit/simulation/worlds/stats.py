"""Confidence intervals over seeds: the mean of per-seed values ± a Student-t half-width.

Each seed is an independent world instance (catalog, shoppers, request stream), so the
per-seed figures (a CTR, or a ratio of two CTRs measured on the same seed) are i.i.d. and
the t-interval over seeds is the honest interval for the suite's claims. With 3 seeds
the 95% multiplier is 4.30: intervals are wide, as they should be with 3 samples.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def _t_cdf(x: float, df: int) -> float:
    """Student-t CDF by numerical integration of the density (df >= 1)."""
    if x == 0:
        return 0.5
    grid = np.linspace(0.0, abs(x), 20_001)
    log_norm = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    density = np.exp(log_norm - (df + 1) / 2 * np.log1p(grid * grid / df))
    area = float(np.sum((density[1:] + density[:-1]) * np.diff(grid)) / 2)
    return 0.5 + math.copysign(area, x)


def t_quantile(p: float, df: int) -> float:
    """The p-quantile of Student's t with `df` degrees of freedom (0.5 < p < 1)."""
    if not 0.5 < p < 1 or df < 1:
        raise ValueError("need 0.5 < p < 1 and df >= 1")
    low, high = 0.0, 1.0
    while _t_cdf(high, df) < p:
        high *= 2
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if _t_cdf(mid, df) < p else (low, mid)
    return (low + high) / 2


@dataclass(frozen=True)
class Interval:
    """mean ± half_width over n values (half_width is nan for a single value)."""

    mean: float
    half_width: float
    n: int

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width


def t_interval(values: Sequence[float], confidence: float = 0.95) -> Interval:
    """Two-sided Student-t interval for the mean of i.i.d. `values`."""
    data = np.asarray(values, dtype=float)
    if not len(data):
        raise ValueError("no values")
    if len(data) == 1:
        return Interval(float(data[0]), math.nan, 1)
    se = float(data.std(ddof=1)) / math.sqrt(len(data))
    multiplier = t_quantile(0.5 + confidence / 2, len(data) - 1)
    return Interval(float(data.mean()), multiplier * se, len(data))
